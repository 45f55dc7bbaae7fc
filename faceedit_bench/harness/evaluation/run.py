"""One pass over a protocol's pairs: every editor edits each batch, every metric reads it.

The real side (every judge output on sources and true targets) is judged first and
cached on disk (:mod:`.real_side`), then shared by all editors (:class:`BatchMemo`).
Slow single-threaded judges (dlib's identity, MediaPipe's AUs) run in a worker process
beside this one (:mod:`.judge_worker`): the edits of batch ``b`` are sent to it before
the other metrics run, and what reads it finishes while batch ``b + 1`` is scored.
Progress is saved to ``OUT/.partial/`` (plain arrays, see :mod:`.partial`) from the
first finished batch on, and on Ctrl-C or SIGTERM, so a stopped run resumes where
it stopped; under ``torchrun`` each rank takes every world-th batch and rank 0
merges exact states (per-sample values, float64 moment sums). A sample an editor
cannot edit is a counted, named failure (:mod:`.robust_edit`), never a lost run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import shutil
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
from tqdm.auto import tqdm

from faceedit_bench import plugins
from faceedit_bench.api.batch import PairBatch
from faceedit_bench.api.dataset import PairSet
from faceedit_bench.api.editor import Editor, EditOutput
from faceedit_bench.api.metric import Metric
from faceedit_bench.api.protocol import Protocol
from faceedit_bench.api.step import JUDGE_CALLS, BackendSet, BatchMemo, EvalStep, JudgeClock, sides_of
from faceedit_bench.harness.evaluation import distributed
from faceedit_bench.harness.evaluation.gather import EvaluationOutput, make_metric, merge_states
from faceedit_bench.harness.evaluation.judge_worker import WORKER_AHEAD, judge_workers
from faceedit_bench.harness.evaluation.partial import EditorState, RunState, SampleFailure, load_partial
from faceedit_bench.harness.evaluation.real_side import RealRead, real_reads, real_side
from faceedit_bench.harness.evaluation.resume import Saver, interrupts_save
from faceedit_bench.harness.evaluation.robust_edit import edit_rows, with_failures
from faceedit_bench.harness.inputs.backends import BackendChoice

QUALITATIVE_PAIRS = 6


def applicable_metrics(protocol: Protocol, pairs: PairSet, backends: BackendSet) -> dict[str, type[Metric]]:
    """The protocol's metrics that this data and these backends can compute."""
    chosen: dict[str, type[Metric]] = {}
    for name in protocol.metrics:
        cls = plugins.metrics.get(name)
        if cls.needs_ground_truth and not pairs.has_ground_truth:
            continue
        needs = ((cls.backend_kind,) if cls.backend_kind else ()) + getattr(cls, "also_needs", ())
        if any(backends.get(kind) is None for kind in needs):
            continue
        chosen[name] = cls
    return chosen


def _fingerprint(
    protocol: Protocol,
    editors: dict[str, Editor],
    labels: dict[str, str | None],
    shard: tuple[int, int],
    batch_size: int,
    real: dict[RealRead, torch.Tensor],
) -> str:
    """Identity of a run: resume state from any other run (or other cache contents) is not reused."""
    payload = {
        "protocol": protocol.to_json(),
        "editors": {k: e.describe() for k, e in editors.items()},
        "backends": labels,
        "shard": list(shard),
        "batch_size": batch_size,
        "real_side": {
            f"{r.call}:{r.side}": hashlib.sha256(v.detach().cpu().contiguous().numpy().tobytes()).hexdigest()
            for r, v in real.items()
        },
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
    """Images where the AU detector found no face (an all-NaN row), per side; failed edits not counted."""
    if step.backends.au_detector is None:
        return {}
    out = {}
    for side in sides:
        missed = torch.isnan(step.aus(side)).all(dim=1).cpu()  # type: ignore[arg-type]
        if side == "edited" and step.failed is not None:
            missed = missed & ~step.failed
        out[side] = int(missed.sum())
    return out


class _ReplayStep:
    """What a distribution metric reads of one finished batch, rebuilt from saved features."""

    def __init__(self, side: str, edited: torch.Tensor, real: torch.Tensor) -> None:
        self.batch = SimpleNamespace(
            has_ground_truth=side == "target",
            reference_image=True if side == "reference" else None,  # only its presence is read
        )
        self._features = {"edited": edited, side: real}

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
    real: dict[RealRead, torch.Tensor]  # real-side judge outputs of this process's pairs
    position: dict[int, int]  # pair index -> row of the real-side outputs
    edit_seconds: float = 0.0  # time spent in the editors

    def indices(self, b: int) -> list[int]:
        return _batch_rows(b, self.batch_size, len(self.pairs))

    def memo(self, indices: list[int]) -> BatchMemo:
        """A batch's memo, holding the real-side outputs of ``indices``."""
        memo = BatchMemo()
        rows = torch.tensor([self.position[i] for i in indices], dtype=torch.long)
        for read, values in self.real.items():
            label = self.backends.get(JUDGE_CALLS[read.call][0]).label  # type: ignore[union-attr]
            memo.values[(read.side, read.call, label)] = values[rows.to(values.device)]
        return memo

    def distribution(self, editor: str) -> list[Metric]:
        return [m for m in self.metrics[editor].values() if not m.per_sample]

    def waits_on_worker(self, metric: Metric) -> bool:
        """Whether ``metric`` reads an output that a worker process computes."""
        return any(self.backends.in_worker(call) for call, _ in type(metric).judge_reads)

    def replay(self, state: RunState) -> None:
        """Feed every finished batch's saved features to the distribution metrics, in order."""
        side = self.pairs.real_side
        real_feats = self.real.get(RealRead("fid_features", side))  # type: ignore[arg-type]
        for name, ed in state.editors.items():
            for b, rows, feats in ed.dist_inputs:
                indices = self.indices(b)
                real = real_feats[[self.position[indices[r]] for r in rows]].cpu()  # type: ignore[index]
                step = _ReplayStep(side, torch.from_numpy(np.array(feats)), real)
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
    judge_worker: str = "auto",
) -> EvaluationOutput | None:
    """Run the pass (resuming from ``work_dir/.partial``); rank 0 gets the merged output.

    ``judge_worker`` (auto, on, off): whether slow judges run in a worker process beside
    this one (:mod:`.judge_worker`); the numbers are the same either way.
    """
    started = time.perf_counter()
    world = distributed.rank_and_world()[1]
    with judge_workers(
        dataclasses.replace(backends, clock=JudgeClock()), device, judge_worker, world
    ) as judges:
        out = _evaluate_with(
            protocol, pairs, editors, judges, choices, work_dir, batch_size, device, progress
        )
    if out is not None:
        out.timings = _timings(judges, out.timings, time.perf_counter() - started)
    return out


def _evaluate_with(
    protocol: Protocol, pairs: PairSet, editors: dict[str, Editor], backends: BackendSet,
    choices: dict[str, BackendChoice], work_dir: Path, batch_size: int | None, device: str, progress: bool,
) -> EvaluationOutput | None:  # fmt: skip
    """:func:`evaluate` with its judge workers running."""
    rank, world = distributed.rank_and_world()
    batch_size = batch_size or protocol.batch_size
    metric_classes = applicable_metrics(protocol, pairs, backends)
    my_batches = list(range(rank, math.ceil(len(pairs) / batch_size), world))
    my_rows = [_batch_rows(b, batch_size, len(pairs)) for b in my_batches]
    start = time.perf_counter()
    reads = real_reads(metric_classes, backends, pairs.has_ground_truth, pairs.real_side)
    real = real_side(pairs, my_rows, reads, backends, device, progress and rank == 0)
    real_s = time.perf_counter() - start
    labels = {k: c.label for k, c in choices.items()}
    fingerprint = _fingerprint(protocol, editors, labels, (rank, world), batch_size, real)
    partial = work_dir / ".partial" / f"rank{rank}-of-{world}.npz"
    for legacy in sorted((work_dir / ".partial").glob("*.pt")):
        print(f"note: ignoring {legacy}: resume state from an older version (pickles are never loaded)")
    state = load_partial(partial, fingerprint) or RunState(fingerprint=fingerprint)
    for name in editors:
        state.editors.setdefault(name, EditorState())
    metrics = {ed: {m: make_metric(cls, backends) for m, cls in metric_classes.items()} for ed in editors}
    positions = {i: k for k, i in enumerate(i for rows in my_rows for i in rows)}
    run = _Pass(pairs, editors, backends, metrics, batch_size, device, real, positions)
    run.replay(state)
    done = set(state.done_batches)
    todo = [b for b in my_batches if b not in done]
    desc = f"{protocol.name}: {len(editors)} editors"
    _batches(run, state, Saver(partial, len(my_batches)), todo, desc if progress and rank == 0 else None)

    for name, ed_state in state.editors.items():  # in memory only: what rank 0 merges
        ed_state.dist_states = {
            m: metric.state() for m, metric in metrics[name].items() if not metric.per_sample
        }
    gathered = distributed.gather_objects(state)
    if rank != 0:
        return None
    out = merge_states(gathered, list(editors), metric_classes, backends)
    out.timings = {"real side": real_s, "edits": run.edit_seconds}
    return out


def _batches(run: _Pass, state: RunState, saver: Saver, todo: list[int], bar: str | None) -> None:
    """Run and commit batches ``todo`` in order (saving resume state as :class:`Saver` says).

    A batch whose metrics wait for a worker is held and finished after the next
    :data:`WORKER_AHEAD` batches' edits and local metrics, so neither this process nor the
    worker idles: the worker always has a held batch's calls queued while this process
    takes back the newest ones (one batch ahead left the worker waiting between batches).
    ``bar``: the progress bar's description (None: no bar).
    """
    last = todo[-1] if todo else None
    with interrupts_save(saver, state) as guard:

        def finish(b: int, work: _BatchWork) -> None:
            done = work.finish()  # waits for what a worker still computes for this batch
            with guard.deferred():  # the batch is finished: record it whole or not at all
                _commit_batch(state, b, *done)
                saver.maybe_save(state, last=b == last)

        ahead = WORKER_AHEAD if run.backends.workers else 0
        held: deque[tuple[int, _BatchWork]] = deque()
        for b in tqdm(todo, desc=bar, unit="batch", disable=bar is None):
            held.append((b, _run_batch(run, state, b)))
            if len(held) > ahead:
                finish(*held.popleft())
        while held:
            finish(*held.popleft())


def _batch_rows(b: int, batch_size: int, n: int) -> list[int]:
    """Pair indices of batch ``b``."""
    return list(range(b * batch_size, min(n, (b + 1) * batch_size)))


def _timings(backends: BackendSet, phases: dict[str, float], wall: float) -> dict[str, float]:
    """Seconds of the pass: wall, phases, each judge in this process and in its worker."""
    out = {"wall": wall, **phases}
    out.update({f"judge {label}": s for label, s in sorted(backends.clock.seconds.items())})
    for worker in set(backends.workers.values()):
        out.update({f"judge {label} (worker)": s for label, s in sorted(worker.seconds.items())})
        out.update(
            {f"judge {label} (taken back from the worker)": s for label, s in sorted(worker.taken.items())}
        )
        out["waiting for the worker"] = worker.waited
    return out


_Pending = tuple[dict[str, tuple[EditorState, bool]], dict[str, int], dict[str, np.ndarray]]


@dataclass
class _BatchWork:
    """A batch whose edits are scored except by what may wait for a worker (``later``).

    ``later``: per edited editor, its step, state part and the metrics that read a
    worker's output; :meth:`finish` runs them and counts the edits without a face.
    """

    pending: dict[str, tuple[EditorState, bool]]
    shared: dict[str, int]
    qualitative: dict[str, np.ndarray]
    later: list[tuple[EvalStep, EditorState, list[Metric]]] = field(default_factory=list)

    def finish(self) -> _Pending:
        for step, part, metrics in self.later:
            _update(part, step, metrics)
            part.no_face = {"edited": _no_face(step, ["edited"]).get("edited", 0)}
        return self.pending, self.shared, self.qualitative


def _run_batch(run: _Pass, state: RunState, b: int) -> _BatchWork:
    """Edit and score batch ``b`` for every editor; ``state`` is only read (see :func:`_commit_batch`).

    Worker judges of every editor's edits are started before any metric runs; metrics that
    read them are left in ``later``.
    """
    indices = run.indices(b)
    batch = run.pairs.batch(indices).to(run.device)
    memo = run.memo(indices)
    sides = ["source"] + (["target"] if batch.has_ground_truth else [])
    shared = _no_face(EvalStep(batch, EditOutput(images=batch.source), "", run.backends, memo), sides)
    work = _BatchWork({}, shared, {})
    for name, step, part, rows in _edit(run, state, b, batch, memo, work):
        later = [m for m in run.metrics[name].values() if run.waits_on_worker(m)]
        _update(part, step, [m for m in run.metrics[name].values() if m not in later])
        if run.distribution(name):
            part.dist_inputs = [(b, rows, step.fid_features("edited").detach().cpu().numpy())]
        work.later.append((step, part, later))
    return work


def _edit(
    run: _Pass,
    state: RunState,
    b: int,
    batch: PairBatch,
    memo: BatchMemo,
    work: _BatchWork,
) -> list[tuple[str, EvalStep, EditorState, list[int]]]:
    """Every editor's edits of ``batch`` as ``(editor, step, state part, batch rows)``; failed rows hold stand-ins."""
    indices = run.indices(b)
    scored: list[tuple[str, EvalStep, EditorState, list[int]]] = []
    for name, editor in run.editors.items():
        ed_state = state.editors[name]
        if ed_state.failed:  # resume state of an older version that dropped a failing editor
            continue
        start = time.perf_counter()
        out, rows, errors = edit_rows(editor, batch)
        run.edit_seconds += time.perf_counter() - start
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
                f"edited (first: {batch.sample_ids[first[0]]}: {first[1]}); each is a counted failure "
                "scored worst in every metric"
            )
        full = out if not errors else with_failures(out, rows, batch)
        failed = None
        if errors:
            failed = torch.zeros(len(batch), dtype=torch.bool)
            failed[list(errors)] = True
        step = _step(run, name, batch, indices, full, memo, part, failed)
        scored.append((name, step, part, list(range(len(batch)))))
        if b == 0:  # figures show the same pairs for every editor; a failed pair shows mid-grey
            _record_qualitative(work.qualitative, name, batch, out, rows)
        work.pending[name] = (part, False)
    return scored


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


def _step(
    run: _Pass,
    name: str,
    batch: PairBatch,
    indices: list[int],
    out: EditOutput,
    memo: BatchMemo,
    part: EditorState,
    failed: torch.Tensor | None,
) -> EvalStep:
    """A batch's edits (failed rows: their stand-in) as metrics see them; worker judges start now."""
    step = EvalStep(batch, out, name, run.backends, memo, failed)
    reads = {
        (call, side)
        for m in run.metrics[name].values()
        for call, side in type(m).judge_reads
        if "edited" in sides_of(side)
    }
    for call, side in sorted(reads | {("aus", "edited")}):  # the face count of the edits reads their AUs too
        step.prefetch(call, side)
    part.order = list(indices)
    part.sample_ids = list(batch.sample_ids)
    part.identity_ids = list(batch.identity_ids or [""] * len(indices))
    return step


def _update(part: EditorState, step: EvalStep, metrics: list[Metric]) -> None:
    """Metric values of ``step`` into ``part``."""
    for metric in metrics:
        for key, vals in metric.update(step).items():
            part.values[f"{key}@{metric.backend_label}"] = vals.detach().double().cpu().tolist()


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


def clear_partial(work_dir: Path) -> None:
    """Remove resume state once final results are safely written."""
    shutil.rmtree(work_dir / ".partial", ignore_errors=True)
