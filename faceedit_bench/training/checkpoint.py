"""Resumable training checkpoints and the small weights-only files editors ship with.

A training checkpoint holds everything needed to continue bit-for-bit: generator,
critic, both optimisers, the data/noise generator state, torch's global RNG state,
the planned step count and elapsed wall time. Files are written atomically.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import torch

from faceedit_bench.config import ConfigError
from faceedit_bench.io import sha256_file, torch_save_atomic
from faceedit_bench.safe_load import UnsafeOrBrokenFile, load_tensors
from faceedit_bench.version import __version__

FORMAT = "faceedit-bench-train/1"
WEIGHTS_FORMAT = "faceedit-bench-editor/1"
# options that do not change what a run computes: they may differ on --resume. ``threads`` is
# compared apart, as the torch thread count the run actually used (check_resume): float
# reductions are split by thread, so another count gives other weights
RESUME_FREE_OPTIONS = frozenset(
    {"resume", "out", "device", "threads", "progress", "log_every", "ckpt_every", "strict", "cache_images"}
)
_META_KEYS = (
    "editor", "spec", "resolution", "config", "step", "seed", "code_version", "final_metrics", "supervision",
)  # fmt: skip


def code_version() -> str:
    """``<package version>+g<git hash>[.dirty]`` when in a git checkout, else the version."""
    root = Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "faceedit_bench", "baselines"],
            cwd=root, capture_output=True, text=True, timeout=20, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__}+g{sha}{'.dirty' if dirty else ''}"


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    torch_save_atomic({"format": FORMAT, **state}, path)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """A training checkpoint, loaded without running code; errors name the file."""
    state = load_tensors(path, "training checkpoint")
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"{path} is not a faceedit-bench training checkpoint")
    return state


def config_differences(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """``name: saved -> current`` for every option that changes what a resumed run computes.

    Options only one side knows (added or removed by a code update) are not compared.
    """
    keys = sorted((set(saved) & set(current)) - RESUME_FREE_OPTIONS)
    return [f"{k}: {saved.get(k)!r} -> {current.get(k)!r}" for k in keys if saved.get(k) != current.get(k)]


def check_resume(
    path: Path, state: dict[str, Any], current: dict[str, Any], torch_threads: int | None = None
) -> None:
    """Refuse to resume ``path`` with options that differ from the ones it was trained with.

    ``torch_threads``: the intra-op thread count this process trains on; it must equal the one
    the checkpoint records (results are bit-for-bit only on the same count).
    """
    saved = state.get("config")
    if not isinstance(saved, dict):
        raise ConfigError(f"--resume: {path} records no training options; it cannot be resumed safely")
    differ = config_differences(saved, current)
    if differ:
        raise ConfigError(
            f"--resume: the options differ from those {path} was trained with ({'; '.join(differ)}); "
            "pass the original values, or start a new run with another --out"
        )
    before = state.get("torch_threads")
    if torch_threads is None:
        return
    if before is None:  # a checkpoint of an older version: only an explicit --threads was recorded
        before = saved.get("threads")
        if before is None or current.get("threads") is None:
            return
    if int(before) != int(torch_threads):
        given = current.get("threads")
        now = f"--threads {given}" if given is not None else "torch's default on this machine"
        raise ConfigError(
            f"--resume: option 'threads' differs from the run {path} was trained with: it ran on "
            f"{before} torch thread(s) (--threads {before}), this resume would run on {torch_threads} ({now}); "
            "the weights would not be bit-for-bit those of an uninterrupted run. Pass --threads "
            f"{before} to continue it, or start a new run with another --out"
        )


def export_weights(checkpoint: Path, dest: Path, half: bool = True) -> dict[str, Any]:
    """Write the generator-only file an editor loads (fp16 tensors when ``half``)."""
    state = load_checkpoint(checkpoint)
    weights = {
        k: (v.half() if half and v.is_floating_point() else v).clone() for k, v in state["generator"].items()
    }
    out = {"format": WEIGHTS_FORMAT, **{k: state.get(k) for k in _META_KEYS}, "generator": weights}
    torch_save_atomic(out, dest)
    return out


def load_init(path: Path, editor: str, spec: Any, resolution: int) -> dict[str, Any]:
    """The state a ``--init`` run starts from, checked against the run (errors name the file).

    ``path`` is a training checkpoint (generator + critic) or a shipped weights file
    (generator only: the critic then starts fresh). Editor, resolution and every spec
    field the file records must equal the run's.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"option 'init': {path} does not exist")
    try:
        state = load_tensors(path, "option 'init':")
    except UnsafeOrBrokenFile as err:
        raise ConfigError(str(err)) from None
    if not isinstance(state, dict) or state.get("format") not in (FORMAT, WEIGHTS_FORMAT):
        raise ConfigError(f"option 'init': {path} is not a faceedit-bench checkpoint or editor weights file")
    if state.get("editor") != editor:
        raise ConfigError(f"option 'init': {path} holds editor {state.get('editor')!r}, not {editor!r}")
    if int(state.get("resolution") or 0) != resolution:
        raise ConfigError(
            f"option 'init': {path} was trained at {state.get('resolution')} px, this run is at {resolution} px"
        )
    ours = spec.to_json()
    theirs = state.get("spec") or {}
    differ = [f"{k}={theirs[k]!r} (run: {ours[k]!r})" for k in theirs if k in ours and theirs[k] != ours[k]]
    if differ:
        raise ConfigError(
            f"option 'init': the spec of {path} differs from this run's: {', '.join(differ)}; "
            "pass the matching --channels/--res-blocks/--motion-res-blocks/loss_weights"
        )
    return state


def apply_init(
    path: Path,
    state: dict[str, Any],
    generator: torch.nn.Module,
    critic: torch.nn.Module,
    critic_init: Path | None = None,
) -> dict:
    """Load ``state``'s weights (see :func:`load_init`); returns the record kept in the run's config.

    ``critic_init``: the pre-trained critic already in ``critic``, kept when ``state`` has none.
    """
    try:
        generator.load_state_dict({k: v.float() for k, v in state["generator"].items()})
        if "critic" in state:
            critic.load_state_dict(state["critic"])
    except RuntimeError as err:
        raise ConfigError(f"option 'init': the weights of {path} do not fit this run's nets: {err}") from None
    return {
        "path": str(path),
        "sha256": sha256_file(path),
        "format": state.get("format"),
        "step": state.get("step"),
        "code_version": state.get("code_version"),
        "critic": "loaded"
        if "critic" in state
        else f"from {critic_init} (the file holds generator weights only)"
        if critic_init is not None
        else "fresh (the file holds generator weights only)",
    }
