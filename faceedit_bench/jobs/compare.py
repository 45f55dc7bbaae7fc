"""``compare``: several editors on one protocol -> results, tables, figures.

The library function behind ``faceedit-bench compare`` (and ``evaluate``, which is a
compare of one editor). Everything a user reads afterwards is built from the files
written here.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path
from typing import Any

from faceedit_bench import plugins
from faceedit_bench.api.dataset import PairSet
from faceedit_bench.api.editor import Editor
from faceedit_bench.api.protocol import Protocol
from faceedit_bench.config import ConfigError, config_to_json
from faceedit_bench.harness.audit.attribution import run_attribution
from faceedit_bench.harness.evaluation import distributed
from faceedit_bench.harness.evaluation.gather import EvaluationOutput
from faceedit_bench.harness.evaluation.run import clear_partial, evaluate
from faceedit_bench.harness.inputs.backends import choose_backends
from faceedit_bench.harness.inputs.config import (
    CompareConfig,
    EvaluateConfig,
    RunOptions,
    check_batch_memory,
    check_protocol_size,
)
from faceedit_bench.harness.inputs.editors import editor_group, load_editors
from faceedit_bench.harness.inputs.pairs import (
    PrefixPairSet,
    build_pairs,
    clamp_n_pairs,
    resolve_device,
    subset_block,
)
from faceedit_bench.harness.inputs.seeds import expand_checkpoints, load_with_seeds
from faceedit_bench.harness.inputs.supervision import supervision_block
from faceedit_bench.harness.outputs.browser import write_browser_images
from faceedit_bench.harness.outputs.provenance import git_hash, package_versions
from faceedit_bench.harness.outputs.results import build_results, write_npz_atomic, write_results
from faceedit_bench.harness.outputs.summary import print_summary
from faceedit_bench.harness.outputs.sweeps import run_sweeps
from faceedit_bench.harness.stats.pair_set import pair_set_digest, sample_ids


def run_compare(
    config: CompareConfig, extra_editors: dict[str, Editor] | None = None, command: str = "compare"
) -> Path | None:
    """Run the comparison; returns the output folder (None on non-zero ranks).

    ``extra_editors`` (the Python API's user editors) join the run; with them, an empty
    ``config.editors`` means no registered editors rather than the protocol's list.
    """
    with distributed.process_group():
        return _run_compare(config, extra_editors, command)


def _run_compare(config: CompareConfig, extra: dict[str, Editor] | None, command: str) -> Path | None:
    from faceedit_bench.harness.inputs.manifest import load_externals
    from faceedit_bench.harness.inputs.rundir import claim_run, default_run_dir
    from faceedit_bench.protocols import resolve_protocol
    from faceedit_bench.user_editors import register_spec

    rank, _ = distributed.rank_and_world()
    protocol: Protocol = resolve_protocol(config.protocol, config.dataset, config.dataset_args)
    where = "--dataset-args" if config.dataset else f"--protocol {config.protocol}"
    check_protocol_size(protocol, where)  # before pairs or images are allocated
    check_batch_memory(protocol.resolution, config.batch_size or protocol.batch_size)
    if config.au_detector and "detector" in protocol.dataset_args:
        # frames labelled by one detector and judged by another would disagree by construction
        protocol = dataclasses.replace(
            protocol, dataset_args={**protocol.dataset_args, "detector": config.au_detector}
        )
    device = resolve_device(config.device)
    started = time.time()

    pairs = build_pairs(protocol, config.n_pairs)
    config = clamp_n_pairs(config, pairs)
    defaults = [] if extra or command != "compare" else list(protocol.default_editors)
    names = [register_spec(n) for n in config.editors] or defaults
    checkpoints = expand_checkpoints(config.checkpoint)
    editors, unavailable, replicates = load_with_seeds(
        names,
        checkpoints,
        protocol.resolution,
        device,
        pairs.has_ground_truth,
        checkpoint_set=protocol.checkpoint_set,
        loader=load_editors,
    )
    for name, why in unavailable.items():
        print(f"note: editor {name!r} skipped: {why}")
    externals = load_externals(
        config.external, protocol.to_json(), protocol.resolution, config.n_pairs, [*editors, *unavailable]
    )
    editors.update(externals)
    for name, editor in (extra or {}).items():
        if name in editors or name in unavailable:
            raise ConfigError(f"editor name {name!r} is used twice in this run")
        editors[name] = editor.to(device)
    supervision = supervision_block(editors, getattr(config, "allow_mixed_supervision", False))
    listed = [*names, *externals, *(extra or {})]
    single = listed[0] if command != "compare" and len(listed) == 1 else None
    out = config.out or default_run_dir(protocol.name, command, single)
    with claim_run(out, command, [*editors, *unavailable], config, protocol.to_json(), rank == 0):
        return _evaluate_and_write(
            config, protocol, pairs, editors, unavailable, device, out, rank, started, command,
            seeds=(checkpoints, replicates), supervision=supervision,
        )  # fmt: skip


def _evaluate_and_write(
    config: Any,
    protocol: Protocol,
    pairs: PairSet,
    editors: dict[str, Editor],
    unavailable: dict[str, str],
    device: str,
    out: Path,
    rank: int,
    started: float,
    command: str = "compare",
    seeds: tuple[dict[str, list[str]], dict[str, list[str]]] = ({}, {}),
    supervision: dict[str, Any] | None = None,
) -> Path | None:
    from faceedit_bench.harness.inputs.judges import check_judge_domains
    from faceedit_bench.harness.stats.comparisons import add_statistics

    if not editors:
        raise ConfigError(
            "no editor could be loaded: " + "; ".join(f"{k}: {v}" for k, v in unavailable.items())
        )
    backends, choices = choose_backends(protocol, config.backend_overrides(), device)
    judge_warnings = check_judge_domains(protocol, choices, config.backend_overrides())
    for kind, choice in choices.items():
        if choice.name is None:
            print(f"note: no usable {kind} backend; its metrics are skipped ({choice.rejected})")
    evaluation = evaluate(
        protocol, pairs, editors, backends, choices, out,
        batch_size=config.batch_size, device=device, progress=config.progress,
        judge_worker=config.judge_worker,
    )  # fmt: skip
    if rank != 0 or evaluation is None:
        return None

    artifacts = out / "artifacts"
    write_npz_atomic(artifacts / "qualitative.npz", {**evaluation.qualitative, "editors": _ordered(editors)})
    trained = {
        k: e for k, e in editors.items() if e.free_edits and not e.is_reference and k not in evaluation.failed
    }
    if trained:
        write_npz_atomic(artifacts / "sweeps.npz", run_sweeps(pairs, trained, device))
    # where each editor's gain comes from; an editor that leaves faces unchanged is marked, not judged
    attributed = {k: e for k, e in editors.items() if k not in evaluation.failed}
    attribution = run_attribution(
        pairs, attributed, backends, device, config.batch_size or protocol.batch_size,
        main_metrics=evaluation.metrics,
    )  # fmt: skip
    print(f"attribution (motion, texture, hue of each edit): {attribution.get('seconds', 0):.0f} s")
    _copy_training_curves(editors, artifacts / "training")
    audits = _judge_audit(backends, pairs) if getattr(config, "judge_audit", True) else None

    data = build_results(
        protocol={
            **protocol.to_json(),
            "n_pairs_evaluated": len(pairs),
            **subset_block(pairs),
            "has_ground_truth": pairs.has_ground_truth,
            "reference_set": pairs.reference_set(),
            **({"pair_set": pair_set_digest(ids)} if (ids := sample_ids(evaluation.samples)) else {}),
        },
        config={
            **config_to_json(config),
            "command": command,
            "device": device,
            "wall_s": round(time.time() - started, 1),
        },
        versions=package_versions(),
        git=git_hash(),
        seed=protocol.seed,
        backends={
            kind: {
                "name": c.name,
                "label": c.label,
                "reason": c.reason,
                "rejected": c.rejected,
                "provenance": backends.get(kind).provenance() if backends.get(kind) is not None else None,
                **({"warning": judge_warnings[kind]} if kind in judge_warnings else {}),
            }
            for kind, c in choices.items()
        },
        metrics_meta=evaluation.metrics_meta,
        editors=_editor_entries(editors, unavailable, evaluation),
    )
    if audits is not None:
        data["judge_audit"] = audits
    data["supervision"] = supervision or supervision_block(editors, allow_mixed=True)
    for name, regime in data["supervision"]["regimes"].items():
        if name in data["editors"]:
            data["editors"][name]["supervision"] = regime
    data["attribution"] = attribution
    headline = headline_block(evaluation.metrics_meta)
    if headline is not None:
        data["headline"] = headline
    add_statistics(
        data, evaluation.samples, *seeds, reference=getattr(config, "reference", None),
        features=evaluation.set_features,
    )  # fmt: skip
    write_results(out, data, evaluation.samples)
    clear_partial(out)
    if getattr(config, "html", False):  # images of the pairs the HTML report's browser shows
        ok = {k: e for k, e in editors.items() if k not in evaluation.failed}
        write_browser_images(pairs, ok, evaluation.samples, artifacts / "browser.npz", device)
    _write_reports(out, config)
    print_summary(data)
    print(f"wrote {out}/results.json, samples.jsonl, tables/ and figures/ in {time.time() - started:.0f} s")
    return out


def _judge_audit(backends: Any, pairs: PairSet) -> dict[str, Any]:
    """How far each AU judge moves under an attack without an edit (:mod:`.judge_audit`), printed."""
    from faceedit_bench.harness.audit.judge_audit import audit_pairs
    from faceedit_bench.reports.judge_audit import audit_line

    audits = audit_pairs(backends, pairs)
    for label, block in audits.items():
        took = f" [{block['seconds']:.1f} s]" if "seconds" in block else ""
        print(f"{audit_line(label, block)}{took}")
    return audits


def headline_block(meta: dict[str, Any]) -> dict[str, Any] | None:
    """The headline metric of a run: the joint edit-success rate, where the judges allow it."""
    from faceedit_bench.metrics.metric_success import EditSuccess

    key = next(
        (k for k, m in meta.items() if m.get("metric") == EditSuccess.name and m.get("key") == "success"),
        None,
    )
    if key is None:
        return None
    return {"metric": key, "definition": EditSuccess.description, "higher_is_better": True}


def _ordered(editors: dict[str, Editor]):
    import numpy as np

    return np.array(list(editors))


def _editor_entries(
    editors: dict[str, Editor], unavailable: dict[str, str], evaluation: EvaluationOutput
) -> dict[str, Any]:
    entries: dict[str, Any] = {}
    for name, editor in editors.items():
        if name in evaluation.failed:
            entries[name] = {
                "group": editor_group(name),
                "status": "failed",
                "reason": evaluation.failed[name],
                "metrics": {},
            }
            continue
        entries[name] = {
            "group": editor_group(name),
            "status": "ok",
            "describe": editor.describe(),
            "no_face": evaluation.no_face.get(name, {}),
            "failed_samples": evaluation.sample_failures.get(name, []),  # named in samples.jsonl too
            "n_failed": len(evaluation.sample_failures.get(name, [])),
            "metrics": evaluation.metrics.get(name, {}),
        }
    for name, why in unavailable.items():
        entries[name] = {"group": editor_group(name), "status": "unavailable", "reason": why, "metrics": {}}
    return entries


def _copy_training_curves(editors: dict[str, Editor], dest: Path) -> None:
    for name, editor in editors.items():
        path = editor.describe().get("training_metrics")
        if path and Path(str(path)).exists():
            dest.mkdir(parents=True, exist_ok=True)
            tmp = dest / f".{name}.jsonl.tmp"
            shutil.copyfile(str(path), tmp)
            tmp.replace(dest / f"{name}.jsonl")


def _write_reports(out: Path, config: Any) -> None:
    """Tables always; figures unless disabled. Both read only the files just written."""
    try:
        from faceedit_bench.reports.tables import write_tables
    except ImportError as err:
        print(f"note: tables not written ({err})")
        return
    write_tables(out, out / "tables")
    if getattr(config, "figures", False):
        try:
            from faceedit_bench.reports.figures import make_figures
        except ImportError as err:
            print(f"note: figures not written ({err})")
            return
        make_figures(out, out / "figures")
    if getattr(config, "html", False):
        from faceedit_bench.reports.html import write_report

        print(f"wrote {write_report(out)}")


def replace_config(config: CompareConfig, **changes: Any) -> CompareConfig:
    return dataclasses.replace(config, **changes)


def run_evaluate(config: EvaluateConfig) -> Path | None:
    """One editor (registered, or replayed from a manifest) on one protocol."""
    from faceedit_bench.harness.inputs.manifest import read_export_info

    fields = {f.name: getattr(config, f.name) for f in dataclasses.fields(RunOptions)}
    if config.editor is not None:
        checkpoints = [f"{config.editor}={config.checkpoint}"] if config.checkpoint else []
        return run_compare(
            CompareConfig(**fields, editors=[config.editor], checkpoint=checkpoints), command="evaluate"
        )
    if read_export_info(config.manifest) is not None:  # an exported protocol: a run of that protocol
        return run_compare(
            CompareConfig(**fields, external=[f"{config.name}={config.manifest}"]), command="evaluate"
        )

    with distributed.process_group():
        return _run_manifest(config)


def _run_manifest(config: EvaluateConfig) -> Path | None:
    from faceedit_bench.harness.inputs.manifest import ManifestPairs, PrecomputedEditor
    from faceedit_bench.harness.inputs.rundir import claim_run, default_run_dir

    rank, _ = distributed.rank_and_world()
    base: Protocol = plugins.protocols.get(config.protocol)
    pairs = ManifestPairs(config.manifest, base.resolution, config.au_scale)
    protocol = dataclasses.replace(
        base,
        name="manifest",
        dataset="manifest",
        dataset_args={
            "path": str(config.manifest),
            "metrics_and_backends_of": base.name,
            "au_scale": pairs.au_scale,
        },
        n_pairs=len(pairs),
        default_editors=(config.name,),
    )
    if config.n_pairs is not None and config.n_pairs < len(pairs):
        pairs = PrefixPairSet(pairs, config.n_pairs)  # type: ignore[assignment]
    config = clamp_n_pairs(config, pairs)
    editors: dict[str, Editor] = {
        config.name: PrecomputedEditor(
            pairs.inner if isinstance(pairs, PrefixPairSet) else pairs, config.name
        )
    }  # type: ignore[arg-type]
    out = config.out or default_run_dir(protocol.name, "evaluate", config.name)
    with claim_run(out, "evaluate", [config.name], config, protocol.to_json(), rank == 0):
        return _evaluate_and_write(
            config, protocol, pairs, editors, {}, resolve_device(config.device), out, rank, time.time(),
            "evaluate",
        )  # fmt: skip
