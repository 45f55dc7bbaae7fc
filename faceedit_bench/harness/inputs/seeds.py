"""Training seeds as an axis: several checkpoints of one editor evaluated as replicates.

``--checkpoint two-stage=a.pt,b.pt,c.pt`` (or a glob, ``two-stage='runs/seed*/checkpoint.pt'``)
loads one editor per checkpoint, named ``two-stage.s1``, ``two-stage.s2``, ... in the
order given (globs sorted). Every replicate edits the same pairs, so the statistics
(:mod:`faceedit_bench.harness.stats.statistics`) can pool them: per-seed values, their mean
and spread, and paired tests that resample pairs and seeds together.
"""

from __future__ import annotations

import glob
from collections.abc import Callable
from pathlib import Path
from typing import Any

from faceedit_bench.api.editor import Editor
from faceedit_bench.config import ConfigError
from faceedit_bench.harness.inputs.config import parse_checkpoints
from faceedit_bench.harness.inputs.editors import load_editors
from faceedit_bench.harness.inputs.names import SEP, base_name

_GLOB_CHARS = set("*?[")


def replicate_name(base: str, k: int) -> str:
    """Name of the ``k``-th (1-based) replicate of ``base``."""
    return f"{base}{SEP}{k}"


def expand_checkpoints(entries: list[str] | tuple[str, ...]) -> dict[str, list[str]]:
    """``["two-stage=a.pt,b.pt", "ganimation=runs/s*/checkpoint.pt"]`` -> editor -> checkpoint list."""
    out: dict[str, list[str]] = {}
    for name, spec in parse_checkpoints(entries).items():
        paths: list[str] = []
        for part in (p.strip() for p in spec.split(",")):
            if not part:
                raise ConfigError(f"--checkpoint {name}={spec}: empty path in the list")
            if _GLOB_CHARS & set(part):
                matches = sorted(glob.glob(part))
                if not matches:
                    raise ConfigError(f"--checkpoint {name}={part}: the pattern matches no file")
                paths += matches
            else:
                paths.append(part)
        if len(set(paths)) != len(paths):
            raise ConfigError(f"--checkpoint {name}: a checkpoint is listed twice ({', '.join(paths)})")
        out[name] = paths
    return out


def load_with_seeds(
    names: list[str],
    checkpoints: dict[str, list[str]],
    resolution: int,
    device: str,
    has_ground_truth: bool,
    checkpoint_set: str | None = None,
    loader: Callable[..., tuple[dict[str, Editor], dict[str, str]]] = load_editors,
) -> tuple[dict[str, Editor], dict[str, str], dict[str, list[str]]]:
    """(editors, unavailable, replicates) where ``replicates`` maps a base name to its replicate names.

    An editor with one checkpoint keeps its own name; with several, each becomes a
    replicate. A checkpoint given explicitly that cannot load is an error naming it (the
    run would otherwise pool fewer seeds, or drop the editor, and exit 0); an editor whose
    shipped checkpoint is missing is reported unavailable.
    """
    single = {n: paths[0] for n, paths in checkpoints.items() if len(paths) == 1}
    loaded, unavailable = loader(
        [n for n in names if len(checkpoints.get(n, [])) <= 1],
        single,
        resolution,
        device,
        has_ground_truth,
        checkpoint_set=checkpoint_set,
    )
    replicates: dict[str, list[str]] = {}
    for base in names:
        paths = checkpoints.get(base, [])
        if len(paths) <= 1:
            continue
        for k, path in enumerate(paths, start=1):
            name = replicate_name(base, k)
            got, why = loader(
                [base], {base: path}, resolution, device, has_ground_truth, checkpoint_set=checkpoint_set
            )
            if base in got:
                got[base].name = name
                loaded[name] = got[base]
                replicates.setdefault(base, []).append(name)
            else:
                unavailable[name] = why.get(base, f"{path}: could not be loaded")
    refuse_unloaded_checkpoints(unavailable, checkpoints)
    for base, reps in replicates.items():
        require_one_recipe(base, {checkpoint_of(n, checkpoints) or n: loaded[n] for n in reps})
    rank = {n: i for i, n in enumerate(names)}  # requested order; replicates where their editor was
    ordered = sorted(loaded, key=lambda n: rank.get(base_name(n), len(names)))
    return {n: loaded[n] for n in ordered}, unavailable, replicates


def refuse_unloaded_checkpoints(unavailable: dict[str, str], checkpoints: dict[str, list[str]]) -> None:
    """A :class:`ConfigError` naming every ``--checkpoint`` the user gave that could not be loaded."""
    failed = []
    for name, why in unavailable.items():
        path = checkpoint_of(name, checkpoints)
        if path is not None:
            failed.append(f"--checkpoint {base_name(name)}={path} ({name}): {why}")
    if failed:
        raise ConfigError("a checkpoint you asked for cannot be loaded: " + "; ".join(failed))


# Training options that do not change what a seed replicate is: where it ran and how it logged.
_NOT_RECIPE = frozenset(
    {"seed", "out", "resume", "init", "device", "threads", "progress", "logger", "log_every", "ckpt_every",
     "val_every", "val_size", "au_detector"}
)  # fmt: skip


def recipe_differences(records: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Option -> {checkpoint: value} for each training option (or the step count) that differs.

    ``records`` maps a checkpoint to its training record (``config`` and ``step`` as a
    trained editor keeps them). Seed, output folder, threads and logging do not count.
    """
    options: dict[str, dict[str, Any]] = {}
    for path, record in records.items():
        config = {k: v for k, v in (record.get("config") or {}).items() if k not in _NOT_RECIPE}
        for key, value in {**config, "step": record.get("step")}.items():
            options.setdefault(key, {})[path] = value
    return {
        key: values
        for key, values in options.items()
        if len(values) != len(records) or len({repr(v) for v in values.values()}) > 1
    }


def require_one_recipe(base: str, replicates: dict[str, Editor]) -> None:
    """Seed replicates must differ only by their seed: else the spread across them is not a seed's.

    Editors without a training record (user editors, exported weights) are not checked.
    """
    records = {path: getattr(e, "state_meta", None) for path, e in replicates.items()}
    if any(not isinstance(r, dict) or not isinstance(r.get("config"), dict) for r in records.values()):
        return
    diff = recipe_differences(records)  # type: ignore[arg-type]
    if diff:
        lines = "; ".join(
            f"{key}: " + ", ".join(f"{v!r} ({p})" for p, v in values.items())
            for key, values in sorted(diff.items())
        )
        raise ConfigError(
            f"--checkpoint {base}: its checkpoints are not seeds of one training setup, so their spread "
            f"is not a seed's ({lines}); pass checkpoints that differ only in --seed"
        )


def checkpoint_of(name: str, checkpoints: dict[str, list[str]]) -> str | None:
    """The checkpoint path a replicate (or a single-checkpoint editor) was loaded from."""
    base = base_name(name)
    paths = checkpoints.get(base, [])
    if name == base:
        return paths[0] if len(paths) == 1 else None
    k = int(name.rpartition(SEP)[2])
    return str(Path(paths[k - 1])) if 0 < k <= len(paths) else None
