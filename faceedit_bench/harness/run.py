"""One pass over a protocol's pairs: every editor edits each batch, every metric reads it.

Per batch, source/target-side judge outputs are computed once and shared by all
editors (:class:`BatchMemo`); real-side FID features come from an on-disk cache.
Progress is checkpointed after every batch to ``OUT/.partial/`` so a killed run
resumes where it stopped; under ``torchrun`` each rank takes every world-th batch
and rank 0 merges exact states (per-sample values, float64 moment sums).
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from faceedit_bench import plugins
from faceedit_bench.api.dataset import PairSet
from faceedit_bench.api.editor import Editor, EditOutput
from faceedit_bench.api.metric import Metric
from faceedit_bench.api.protocol import Protocol
from faceedit_bench.harness import distributed
from faceedit_bench.harness.backends import BackendChoice
from faceedit_bench.harness.feature_cache import reference_features
from faceedit_bench.harness.step import BackendSet, BatchMemo, EvalStep
from faceedit_bench.io import torch_save_atomic

QUALITATIVE_PAIRS = 6
# Resume state holds float64 FID moments (32 MB per editor): save it at most this often.
CHECKPOINT_EVERY_S = 30.0


@dataclass
class EditorState:
    """What one process has accumulated for one editor."""

    values: dict[str, list[float]] = field(default_factory=dict)  # key@backend -> per-sample
    order: list[int] = field(default_factory=list)  # pair index of each per-sample entry
    sample_ids: list[str] = field(default_factory=list)
    identity_ids: list[str] = field(default_factory=list)
    dist_states: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)  # metric name -> state
    no_face: dict[str, int] = field(default_factory=lambda: {"source": 0, "edited": 0, "target": 0})
    failed: str | None = None


@dataclass
class RunState:
    fingerprint: str
    done_batches: list[int] = field(default_factory=list)
    editors: dict[str, EditorState] = field(default_factory=dict)
    qualitative: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class EvaluationOutput:
    """Merged accumulations (rank 0) ready for the results writer."""

    metrics: dict[str, dict[str, Any]]  # editor -> key@backend -> value dict
    samples: list[dict[str, Any]]
    no_face: dict[str, dict[str, int]]
    failed: dict[str, str]
    metrics_meta: dict[str, dict[str, Any]]
    qualitative: dict[str, np.ndarray]


def applicable_metrics(protocol: Protocol, pairs: PairSet, backends: BackendSet) -> dict[str, type[Metric]]:
    """The protocol's metrics that this data and these backends can compute."""
    chosen: dict[str, type[Metric]] = {}
    for name in protocol.metrics:
        cls = plugins.metrics.get(name)
        if cls.needs_ground_truth and not pairs.has_ground_truth:
            continue
        if cls.backend_kind is not None and backends.get(cls.backend_kind) is None:
            continue
        chosen[name] = cls
    return chosen


def _make_metric(cls: type[Metric], backends: BackendSet) -> Metric:
    label = "exact" if cls.backend_kind is None else backends.get(cls.backend_kind).label  # type: ignore[union-attr]
    return cls(backend_label=label)


def _fingerprint(
    protocol: Protocol, editors: dict[str, Editor], labels: dict[str, str | None], shard: tuple[int, int]
) -> str:
    payload = {
        "protocol": protocol.to_json(),
        "editors": {k: e.describe() for k, e in editors.items()},
        "backends": labels,
        "shard": list(shard),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _to_uint8(images: torch.Tensor) -> np.ndarray:
    return (images.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()


def _record_qualitative(
    store: dict[str, np.ndarray], editor: str, batch_source, batch, out: EditOutput, k: int
) -> None:
    if "source" not in store:
        store["source"] = _to_uint8(batch_source[:k])
        store["target_aus"] = batch.target_aus[:k].cpu().numpy().astype(np.float32)
        if batch.source_aus is not None:
            store["source_aus"] = batch.source_aus[:k].cpu().numpy().astype(np.float32)
        if batch.target_image is not None:
            store["target"] = _to_uint8(batch.target_image[:k])
    store[f"edited__{editor}"] = _to_uint8(out.images[:k])
    if out.flow is not None:
        store[f"flow__{editor}"] = out.flow[:k].detach().float().cpu().numpy()
    if out.mask is not None:
        store[f"mask__{editor}"] = out.mask[:k].detach().float().cpu().numpy()
    if out.warped is not None:
        store[f"warped__{editor}"] = _to_uint8(out.warped[:k])


def _count_no_face(step: EvalStep, state: EditorState, shared_counted: bool) -> None:
    """Count images where the AU detector found no face (an all-NaN row)."""
    if step.backends.au_detector is None:
        return
    sides = (
        ["edited"]
        if shared_counted
        else ["edited", "source"] + (["target"] if step.batch.has_ground_truth else [])
    )
    for side in sides:
        aus = step.aus(side)  # type: ignore[arg-type]
        state.no_face[side] += int(torch.isnan(aus).all(dim=1).sum())


def evaluate(
    protocol: Protocol,
    pairs: PairSet,
    editors: dict[str, Editor],
    backends: BackendSet,
    choices: dict[str, BackendChoice],
    work_dir: Path,
    *,
    batch_size: int | None = None,
    device: str = "cpu",
    progress: bool = True,
) -> EvaluationOutput | None:
    """Run the pass (resuming from ``work_dir/.partial``); rank 0 gets the merged output."""
    rank, world = distributed.rank_and_world()
    batch_size = batch_size or protocol.batch_size
    metric_classes = applicable_metrics(protocol, pairs, backends)
    labels = {k: c.label for k, c in choices.items()}
    fingerprint = _fingerprint(protocol, editors, labels, (rank, world))
    partial = work_dir / ".partial" / f"rank{rank}-of-{world}.pt"
    state = _load_partial(partial, fingerprint) or RunState(fingerprint=fingerprint)
    for name in editors:
        state.editors.setdefault(name, EditorState())

    n = len(pairs)
    n_batches = math.ceil(n / batch_size)
    my_batches = [b for b in range(n_batches) if b % world == rank]
    metrics = {ed: {m: _make_metric(cls, backends) for m, cls in metric_classes.items()} for ed in editors}
    for ed, per in metrics.items():  # restore distribution states of a resumed run
        for m, metric in per.items():
            saved = state.editors[ed].dist_states.get(m)
            if saved and not metric.per_sample:
                metric.merge([saved])

    my_indices = [i for b in my_batches for i in range(b * batch_size, min(n, (b + 1) * batch_size))]
    real_feats = None
    if backends.fid_features is not None and any(not c.per_sample for c in metric_classes.values()):
        real_feats = reference_features(
            pairs, my_indices, backends.fid_features, batch_size, progress and rank == 0
        )

    todo = [b for b in my_batches if b not in set(state.done_batches)]
    last_save = time.monotonic()
    bar = tqdm(
        todo, desc=f"{protocol.name}: {len(editors)} editors", unit="batch", disable=not progress or rank != 0
    )
    for b in bar:
        indices = list(range(b * batch_size, min(n, (b + 1) * batch_size)))
        batch = pairs.batch(indices).to(device)
        memo = BatchMemo()
        if real_feats is not None:
            which = "target" if batch.has_ground_truth else "source"
            rows = torch.tensor([my_indices.index(i) for i in indices])
            memo.values[(which, "fid", backends.fid_features.label)] = real_feats[rows].to(device)
        shared_counted = False
        for ed_name, editor in editors.items():
            ed_state = state.editors[ed_name]
            if ed_state.failed:
                continue
            try:
                with torch.no_grad():
                    out = editor.edit_batch(batch)
            except Exception as err:  # one broken editor must not lose the others' results
                ed_state.failed = f"{type(err).__name__}: {err}"
                print(
                    f"error: editor {ed_name!r} failed on batch {b}: {ed_state.failed}; continuing without it"
                )
                continue
            step = EvalStep(batch, out, ed_name, backends, memo)
            for metric in metrics[ed_name].values():
                for key, vals in metric.update(step).items():
                    full = f"{key}@{metric.backend_label}"
                    ed_state.values.setdefault(full, [float("nan")] * len(ed_state.order))
                    ed_state.values[full].extend(vals.detach().double().cpu().tolist())
            ed_state.order.extend(indices)
            ed_state.sample_ids.extend(batch.sample_ids)
            ed_state.identity_ids.extend(batch.identity_ids or [""] * len(indices))
            for vals in ed_state.values.values():  # keys absent this batch stay aligned
                vals.extend([float("nan")] * (len(ed_state.order) - len(vals)))
            _count_no_face(step, ed_state, shared_counted)
            shared_counted = True
            if b == 0:
                _record_qualitative(state.qualitative, ed_name, batch.source, batch, out, QUALITATIVE_PAIRS)
            ed_state.dist_states = {
                m: metric.state() for m, metric in metrics[ed_name].items() if not metric.per_sample
            }
        # source/target no-face counts are per pair, not per editor: copy from the first editor
        first = next(iter(editors))
        for ed_state in state.editors.values():
            ed_state.no_face["source"] = state.editors[first].no_face["source"]
            ed_state.no_face["target"] = state.editors[first].no_face["target"]
        state.done_batches.append(b)
        if time.monotonic() - last_save > CHECKPOINT_EVERY_S or b == todo[-1]:
            torch_save_atomic(state, partial)
            last_save = time.monotonic()

    gathered = distributed.gather_objects(state)
    if rank != 0:
        return None
    return _merge(gathered, list(editors), metric_classes, backends)


def _load_partial(path: Path, fingerprint: str) -> RunState | None:
    if not path.exists():
        return None
    try:
        saved = torch.load(path, weights_only=False)
    except Exception as err:
        print(f"warning: ignoring unreadable partial state {path}: {err}")
        return None
    if not isinstance(saved, RunState) or saved.fingerprint != fingerprint:
        print(f"note: {path} belongs to a different run configuration; starting afresh")
        return None
    print(f"resuming: {len(saved.done_batches)} batches already done ({path})")
    return saved


def _merge(
    states: list[RunState],
    editor_names: list[str],
    metric_classes: dict[str, type[Metric]],
    backends: BackendSet,
) -> EvaluationOutput:
    from faceedit_bench.harness.bootstrap import bootstrap_mean_ci

    results: dict[str, dict[str, Any]] = {}
    samples: list[dict[str, Any]] = []
    no_face: dict[str, dict[str, int]] = {}
    failed: dict[str, str] = {}
    meta: dict[str, dict[str, Any]] = {}
    qualitative = states[0].qualitative

    for metric_name, cls in metric_classes.items():
        probe = _make_metric(cls, backends)
        primary = set(probe.primary_keys())
        for key, hib in probe.keys().items():
            meta[f"{key}@{probe.backend_label}"] = {
                "metric": metric_name,
                "key": key,
                "backend": probe.backend_label,
                "higher_is_better": hib,
                "primary": key in primary,
                "needs_ground_truth": cls.needs_ground_truth,
                "per_sample": cls.per_sample,
                "description": cls.description,
            }

    for ed in editor_names:
        parts = [s.editors[ed] for s in states]
        fail = next((p.failed for p in parts if p.failed), None)
        if fail:
            failed[ed] = fail
            continue
        order = np.concatenate([np.asarray(p.order, dtype=np.int64) for p in parts])
        perm = np.argsort(order, kind="stable")
        sample_ids = [sid for p in parts for sid in p.sample_ids]
        identity_ids = [iid for p in parts for iid in p.identity_ids]
        keys = sorted({k for p in parts for k in p.values})
        columns = {
            k: np.concatenate(
                [np.asarray(p.values.get(k, [np.nan] * len(p.order)), dtype=np.float64) for p in parts]
            )[perm]
            for k in keys
        }
        ed_metrics: dict[str, Any] = {}
        for k, col in columns.items():
            finite = np.isfinite(col)
            if not finite.any():
                continue
            m = meta.get(
                k,
                {
                    "metric": k.split("@")[0],
                    "key": k.split("@")[0],
                    "backend": k.split("@")[1],
                    "higher_is_better": False,
                },
            )
            lo, hi = bootstrap_mean_ci(col, seed=0)
            ed_metrics[k] = {
                "value": float(col[finite].mean()),
                "ci95": [lo, hi],
                "n": int(finite.sum()),
                "backend": m["backend"],
                "higher_is_better": m["higher_is_better"],
                "skipped": int((~finite).sum()),
                "metric": m["metric"],
                "key": m["key"],
            }
        for metric_name, cls in metric_classes.items():
            if cls.per_sample:
                continue
            metric = _make_metric(cls, backends)
            metric.merge([p.dist_states[metric_name] for p in parts if metric_name in p.dist_states])
            for key, value in metric.compute().items():
                if value is None or not math.isfinite(value):
                    continue
                full = f"{key}@{metric.backend_label}"
                ed_metrics[full] = {
                    "value": float(value),
                    "ci95": None,
                    "n": len(order),
                    "backend": metric.backend_label,
                    "higher_is_better": meta[full]["higher_is_better"],
                    "skipped": 0,
                    "metric": metric_name,
                    "key": key,
                }
        results[ed] = ed_metrics
        no_face[ed] = {
            "source": sum(p.no_face["source"] for p in parts),
            "edited": sum(p.no_face["edited"] for p in parts),
            "target": sum(p.no_face["target"] for p in parts),
            "n": len(order),
        }
        sorted_ids = [sample_ids[i] for i in perm]
        sorted_identities = [identity_ids[i] for i in perm]
        for row, (sid, iid) in enumerate(zip(sorted_ids, sorted_identities, strict=True)):
            values = {k: (float(col[row]) if np.isfinite(col[row]) else None) for k, col in columns.items()}
            samples.append({"editor": ed, "sample_id": sid, "identity_id": iid, "values": values})
    return EvaluationOutput(results, samples, no_face, failed, meta, qualitative)


def clear_partial(work_dir: Path) -> None:
    """Remove resume state once final results are safely written."""
    shutil.rmtree(work_dir / ".partial", ignore_errors=True)
