"""One pass over a protocol's pairs: every editor edits each batch, every metric reads it.

Per batch, source/target-side judge outputs are computed once and shared by all
editors (:class:`BatchMemo`); real-side FID features come from an on-disk cache.
Progress is saved to ``OUT/.partial/`` (plain arrays, see :mod:`.partial`) from the
first finished batch on, and on Ctrl-C or SIGTERM, so a stopped run resumes where
it stopped; under ``torchrun`` each rank takes every world-th batch and rank 0
merges exact states (per-sample values, float64 moment sums). A sample an editor
cannot edit is a counted, named failure (:mod:`.robust_edit`), never a lost run.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from faceedit_bench import plugins
from faceedit_bench.api.batch import PairBatch
from faceedit_bench.api.dataset import PairSet
from faceedit_bench.api.editor import Editor, EditOutput
from faceedit_bench.api.metric import Metric
from faceedit_bench.api.protocol import Protocol
from faceedit_bench.harness import distributed
from faceedit_bench.harness.backends import BackendChoice
from faceedit_bench.harness.feature_cache import reference_features
from faceedit_bench.harness.partial import EditorState, RunState, SampleFailure, load_partial
from faceedit_bench.harness.resume import Saver, interrupts_save
from faceedit_bench.harness.robust_edit import edit_rows, subset
from faceedit_bench.harness.step import BackendSet, BatchMemo, EvalStep

QUALITATIVE_PAIRS = 6


@dataclass
class EvaluationOutput:
    """Merged accumulations (rank 0) ready for the results writer."""

    metrics: dict[str, dict[str, Any]]  # editor -> key@backend -> value dict
    samples: list[dict[str, Any]]
    no_face: dict[str, dict[str, int]]
    failed: dict[str, str]
    metrics_meta: dict[str, dict[str, Any]]
    qualitative: dict[str, np.ndarray]
    sample_failures: dict[str, list[dict[str, str]]]  # editor -> [{sample_id, reason}]
    # editor -> (edited, real) distribution features in pair order (FID/KID intervals)
    set_features: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


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
    protocol: Protocol,
    editors: dict[str, Editor],
    labels: dict[str, str | None],
    shard: tuple[int, int],
    batch_size: int,
    real_features: torch.Tensor | None,
) -> str:
    """Identity of a run: resume state from any other run (or other cache contents) is not reused."""
    payload = {
        "protocol": protocol.to_json(),
        "editors": {k: e.describe() for k, e in editors.items()},
        "backends": labels,
        "shard": list(shard),
        "batch_size": batch_size,
        "real_features": None
        if real_features is None
        else hashlib.sha256(real_features.contiguous().numpy().tobytes()).hexdigest(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _to_uint8(images: torch.Tensor) -> np.ndarray:
    return (images.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()


def _record_qualitative(
    store: dict[str, np.ndarray], editor: str, batch: PairBatch, out: EditOutput, rows: list[int]
) -> None:
    """The first pairs of batch 0 for figures; a pair the editor failed on shows as mid-grey."""
    k = min(QUALITATIVE_PAIRS, len(batch))
    if "source" not in store:
        store["source"] = _to_uint8(batch.source[:k])
        store["target_aus"] = batch.target_aus[:k].cpu().numpy().astype(np.float32)
        if batch.source_aus is not None:
            store["source_aus"] = batch.source_aus[:k].cpu().numpy().astype(np.float32)
        if batch.target_image is not None:
            store["target"] = _to_uint8(batch.target_image[:k])
    shown = [(i, r) for i, r in enumerate(rows) if r < k]  # (row of out, row of batch)
    edited = np.full_like(store["source"], 128)
    for i, r in shown:
        edited[r] = _to_uint8(out.images[i : i + 1])[0]
    store[f"edited__{editor}"] = edited
    if len(shown) < k:  # flow, mask and warped only when every shown pair was edited
        return
    if out.flow is not None:
        store[f"flow__{editor}"] = out.flow[:k].detach().float().cpu().numpy()
    if out.mask is not None:
        store[f"mask__{editor}"] = out.mask[:k].detach().float().cpu().numpy()
    if out.warped is not None:
        store[f"warped__{editor}"] = _to_uint8(out.warped[:k])


def _no_face(step: EvalStep, sides: list[str]) -> dict[str, int]:
    """Images where the AU detector found no face (an all-NaN row), per side."""
    if step.backends.au_detector is None:
        return {}
    return {side: int(torch.isnan(step.aus(side)).all(dim=1).sum()) for side in sides}  # type: ignore[arg-type]


class _ReplayStep:
    """What a distribution metric reads of one finished batch, rebuilt from saved features."""

    def __init__(self, has_ground_truth: bool, edited: torch.Tensor, real: torch.Tensor) -> None:
        self.batch = SimpleNamespace(has_ground_truth=has_ground_truth)
        self._features = {"edited": edited, "target" if has_ground_truth else "source": real}

    def fid_features(self, which: str) -> torch.Tensor:
        return self._features[which]


@dataclass
class _Pass:
    """Fixed inputs of one evaluation pass on this process."""

    pairs: PairSet
    editors: dict[str, Editor]
    backends: BackendSet
    metrics: dict[str, dict[str, Metric]]  # editor -> metric name -> accumulator
    batch_size: int
    device: str
    real_feats: torch.Tensor | None
    position: dict[int, int]  # pair index -> row of real_feats

    def indices(self, b: int) -> list[int]:
        return list(range(b * self.batch_size, min(len(self.pairs), (b + 1) * self.batch_size)))

    def memo(self, indices: list[int], has_ground_truth: bool) -> BatchMemo:
        memo = BatchMemo()
        if self.real_feats is not None:
            which = "target" if has_ground_truth else "source"
            rows = torch.tensor([self.position[i] for i in indices])
            memo.values[(which, "fid", self.backends.fid_features.label)] = self.real_feats[rows].to(
                self.device
            )  # type: ignore[union-attr]
        return memo

    def distribution(self, editor: str) -> list[Metric]:
        return [m for m in self.metrics[editor].values() if not m.per_sample]

    def replay(self, state: RunState) -> None:
        """Feed every finished batch's saved features to the distribution metrics, in order."""
        for name, ed in state.editors.items():
            for b, rows, feats in ed.dist_inputs:
                indices = self.indices(b)
                real = self.real_feats[[self.position[indices[r]] for r in rows]]  # type: ignore[index]
                step = _ReplayStep(self.pairs.has_ground_truth, torch.from_numpy(np.array(feats)), real)
                for metric in self.distribution(name):
                    metric.update(step)  # type: ignore[arg-type]


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
    n_batches = math.ceil(len(pairs) / batch_size)
    my_batches = [b for b in range(n_batches) if b % world == rank]
    my_indices = [i for b in my_batches for i in range(b * batch_size, min(len(pairs), (b + 1) * batch_size))]
    real_feats = None
    if backends.fid_features is not None and any(not c.per_sample for c in metric_classes.values()):
        real_feats = reference_features(
            pairs, my_indices, backends.fid_features, batch_size, progress and rank == 0
        )
    labels = {k: c.label for k, c in choices.items()}
    fingerprint = _fingerprint(protocol, editors, labels, (rank, world), batch_size, real_feats)
    partial = work_dir / ".partial" / f"rank{rank}-of-{world}.npz"
    for legacy in sorted((work_dir / ".partial").glob("*.pt")):
        print(f"note: ignoring {legacy}: resume state from an older version (pickles are never loaded)")
    state = load_partial(partial, fingerprint) or RunState(fingerprint=fingerprint)
    for name in editors:
        state.editors.setdefault(name, EditorState())
    metrics = {ed: {m: _make_metric(cls, backends) for m, cls in metric_classes.items()} for ed in editors}
    run = _Pass(
        pairs,
        editors,
        backends,
        metrics,
        batch_size,
        device,
        real_feats,
        {i: k for k, i in enumerate(my_indices)},
    )
    run.replay(state)

    done = set(state.done_batches)
    todo = [b for b in my_batches if b not in done]
    bar = tqdm(
        todo, desc=f"{protocol.name}: {len(editors)} editors", unit="batch", disable=not progress or rank != 0
    )
    saver = Saver(partial, len(my_batches))
    with interrupts_save(saver, state) as guard:
        for b in bar:
            pending = _run_batch(run, state, b)
            with guard.deferred():  # the batch is finished: record it whole or not at all
                _commit_batch(state, b, *pending)
                saver.maybe_save(state, last=b == todo[-1])

    for name, ed_state in state.editors.items():  # in memory only: what rank 0 merges
        ed_state.dist_states = {
            m: metric.state() for m, metric in metrics[name].items() if not metric.per_sample
        }
    gathered = distributed.gather_objects(state)
    if rank != 0:
        return None
    return _merge(gathered, list(editors), metric_classes, backends)


_Pending = tuple[dict[str, tuple[EditorState, bool]], dict[str, int], dict[str, np.ndarray]]


def _run_batch(run: _Pass, state: RunState, b: int) -> _Pending:
    """Edit and score batch ``b`` for every editor; ``state`` is only read (see :func:`_commit_batch`)."""
    indices = run.indices(b)
    batch = run.pairs.batch(indices).to(run.device)
    memo = run.memo(indices, batch.has_ground_truth)
    sides = ["source"] + (["target"] if batch.has_ground_truth else [])
    shared = _no_face(EvalStep(batch, EditOutput(images=batch.source), "", run.backends, memo), sides)
    pending: dict[str, tuple[EditorState, bool]] = {}
    qualitative: dict[str, np.ndarray] = {}
    for name, editor in run.editors.items():
        ed_state = state.editors[name]
        if ed_state.failed:
            continue
        out, rows, errors = edit_rows(editor, batch)
        if out is None and not ed_state.order:  # nothing of this editor has ever worked: it is broken
            reason = next(iter(errors.values()))
            print(f"error: editor {name!r} failed on batch {b}: {reason}; continuing without it")
            pending[name] = (EditorState(failed=reason), True)
            continue
        part = EditorState(
            failures=[
                SampleFailure(indices[r], batch.sample_ids[r], _identity(batch, r), why)
                for r, why in errors.items()
            ]
        )
        if errors:
            first = next(iter(errors.items()))
            print(
                f"warning: editor {name!r}: {len(errors)} of {len(batch)} samples in batch {b} could not be "
                f"edited (first: {batch.sample_ids[first[0]]}: {first[1]}); they are counted as failed"
            )
        if out is not None:
            _score(
                run, name, batch if len(rows) == len(batch) else subset(batch, rows), b, rows, out, memo, part
            )
            if b == 0:  # figures show the same pairs for every editor
                _record_qualitative(qualitative, name, batch, out, rows)
        pending[name] = (part, False)
    return pending, shared, qualitative


def _commit_batch(
    state: RunState,
    b: int,
    pending: dict[str, tuple[EditorState, bool]],
    shared: dict[str, int],
    qualitative: dict[str, np.ndarray],
) -> None:
    for name, (part, failed) in pending.items():
        _commit(state.editors[name], part, failed, shared)
    state.qualitative.update({k: v for k, v in qualitative.items() if k not in state.qualitative})
    state.done_batches.append(b)


def _identity(batch: PairBatch, row: int) -> str:
    return batch.identity_ids[row] if batch.identity_ids else ""


def _score(
    run: _Pass,
    name: str,
    sub: PairBatch,
    b: int,
    rows: list[int],
    out: EditOutput,
    memo: BatchMemo,
    part: EditorState,
) -> None:
    """Metric values of the edited rows of batch ``b`` into ``part``."""
    indices = run.indices(b)
    picked = [indices[r] for r in rows]
    if len(rows) != len(indices):
        memo = run.memo(picked, sub.has_ground_truth)
    step = EvalStep(sub, out, name, run.backends, memo)
    for metric in run.metrics[name].values():
        for key, vals in metric.update(step).items():
            part.values[f"{key}@{metric.backend_label}"] = vals.detach().double().cpu().tolist()
    part.order = picked
    part.sample_ids = list(sub.sample_ids)
    part.identity_ids = list(sub.identity_ids or [""] * len(rows))
    part.no_face = {"edited": _no_face(step, ["edited"]).get("edited", 0)}
    if run.distribution(name):
        part.dist_inputs = [(b, rows, step.fid_features("edited").detach().cpu().numpy())]


def _commit(ed_state: EditorState, part: EditorState, failed: bool, shared: dict[str, int]) -> None:
    """Append one finished batch's results to an editor's state (keys absent so far stay aligned)."""
    if failed:
        ed_state.failed = part.failed
        return
    before = len(ed_state.order)
    for key, vals in part.values.items():
        ed_state.values.setdefault(key, [float("nan")] * before).extend(vals)
    ed_state.order.extend(part.order)
    ed_state.sample_ids.extend(part.sample_ids)
    ed_state.identity_ids.extend(part.identity_ids)
    for vals in ed_state.values.values():
        vals.extend([float("nan")] * (len(ed_state.order) - len(vals)))
    for side, count in {**shared, **part.no_face}.items():
        ed_state.no_face[side] = ed_state.no_face.get(side, 0) + count
    ed_state.failures.extend(part.failures)
    ed_state.dist_inputs.extend(part.dist_inputs)


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

    sample_failures: dict[str, list[dict[str, str]]] = {}
    set_features: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for ed in editor_names:
        parts = [s.editors[ed] for s in states]
        fail = next((p.failed for p in parts if p.failed), None)
        if fail:
            failed[ed] = fail
            continue
        lost = sorted((f for p in parts for f in p.failures), key=lambda f: f.index)
        sample_failures[ed] = [{"sample_id": f.sample_id, "reason": f.reason} for f in lost]
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
            if hasattr(metric, "align") and metric.align(perm):  # pair order: KID subsets, intervals
                set_features.setdefault(ed, metric.features())
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
        rows: list[tuple[int, dict[str, Any]]] = []
        for row, i in enumerate(perm):
            values = {k: (float(col[row]) if np.isfinite(col[row]) else None) for k, col in columns.items()}
            entry = {
                "editor": ed,
                "sample_id": sample_ids[i],
                "identity_id": identity_ids[i],
                "values": values,
            }
            rows.append((int(order[i]), entry))
        for f in lost:
            entry = {"editor": ed, "sample_id": f.sample_id, "identity_id": f.identity_id, "values": {}}
            rows.append((f.index, {**entry, "failed": f.reason}))
        samples.extend(entry for _, entry in sorted(rows, key=lambda r: r[0]))
    return EvaluationOutput(
        results, samples, no_face, failed, meta, qualitative, sample_failures, set_features
    )


def clear_partial(work_dir: Path) -> None:
    """Remove resume state once final results are safely written."""
    shutil.rmtree(work_dir / ".partial", ignore_errors=True)
