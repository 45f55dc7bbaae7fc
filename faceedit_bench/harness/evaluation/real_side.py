"""The real side of a pass, judged once before the edits and cached on disk.

Extends the FID feature cache (real-side Inception features, keyed and checksummed
as torch-fidelity caches its statistics, :mod:`faceedit_bench.cache_file`) to every
judge output on real images that the pass reads: FID features of the true targets
(or the sources), AU readings of sources and targets, identity embeddings of the
sources. Which outputs are read is declared by the metrics (``Metric.judge_reads``)
plus the face counts of every run (AUs of both real sides).

Each output is computed batch by batch exactly as the pass groups its pairs and
reads its images (``pairs.batch(...).to(device)`` through :class:`EvalStep`), so a
cached value equals the one the pass would compute. One file per (pairs, side,
judge call, backend label and provenance, input size, device, torch threads it
runs on, exact indices) holds
the values and the device they were on. An entry is used only when the cache index
kept apart from it (:mod:`faceedit_bench.cache_file`) records it for this key with its
bytes; a file that fails its index, key or checksum, or holds values of the wrong
shape (rows, or a width other than the judge's: 17 AUs, the backend's declared
``output_width``) or non-finite FID features, is rebuilt with a warning naming it. Judges that run in a worker process get their batches ahead of this
process's own judges, so both cores work.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from faceedit_bench.api.aus import N_AUS
from faceedit_bench.api.dataset import PairSet
from faceedit_bench.api.editor import EditOutput
from faceedit_bench.api.metric import Metric
from faceedit_bench.api.step import JUDGE_CALLS, BackendSet, BatchMemo, EvalStep, Which, sides_of
from faceedit_bench.cache_file import load_checked, save_checked
from faceedit_bench.harness.evaluation.judge_worker import WORKER_AHEAD
from faceedit_bench.paths import cache_dir

FACE_COUNT_READS = (("aus", "source"), ("aus", "target"))  # run._no_face reads both real sides


@dataclass(frozen=True)
class RealRead:
    """One judge output on one real side: ``call`` (a key of ``JUDGE_CALLS``) on ``side``."""

    call: str
    side: Which


def real_reads(
    metric_classes: dict[str, type[Metric]],
    backends: BackendSet,
    has_ground_truth: bool,
    real: str | None = None,
) -> list[RealRead]:
    """The real-side judge outputs the pass will read, in a stable order.

    ``real``: the side a metric's ``"real"`` reads (``PairSet.real_side``; default: the
    targets with ground truth, else the sources).
    """
    wanted = list(FACE_COUNT_READS) if backends.au_detector is not None else []
    for cls in metric_classes.values():
        wanted.extend(cls.judge_reads)
    reads: list[RealRead] = []
    for call, side in wanted:
        if side == "real":
            side = real or ("target" if has_ground_truth else "source")
        if "edited" in sides_of(side) or (side == "target" and not has_ground_truth):
            continue
        if backends.get(JUDGE_CALLS[call][0]) is None:
            continue
        read = RealRead(call, side)  # type: ignore[arg-type]
        if read not in reads:
            reads.append(read)
    return reads


def cache_key(
    pairs: PairSet, indices: Sequence[int], read: RealRead, backends: BackendSet, device: str
) -> str:
    backend = backends.get(JUDGE_CALLS[read.call][0])
    payload = {
        "pairs": pairs.cache_key(),
        "side": read.side,
        "call": read.call,
        "backend": backend.label,  # type: ignore[union-attr]
        "provenance": backend.provenance(),  # type: ignore[union-attr]
        "input_size": backend.input_size,  # type: ignore[union-attr]
        "device": torch.device(device).type,
        "threads": backends.clock.threads_for(backend),  # outputs may depend on the thread count
        "indices": hashlib.sha256(json.dumps(list(indices)).encode()).hexdigest(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:24]


def cache_folder() -> Path:
    root = os.environ.get("FACEEDIT_BENCH_CACHE_FEATURES")  # benchmarks isolate this cache
    folder = Path(root) if root else cache_dir("features")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def real_side(
    pairs: PairSet,
    batches: list[list[int]],
    reads: list[RealRead],
    backends: BackendSet,
    device: str,
    progress: bool = False,
) -> dict[RealRead, torch.Tensor]:
    """Each read's values for the rows of ``batches`` (concatenated), from cache or computed and cached."""
    indices = [i for rows in batches for i in rows]
    folder = cache_folder()
    paths = {r: folder / f"{cache_key(pairs, indices, r, backends, device)}.pt" for r in reads}
    out: dict[RealRead, torch.Tensor] = {}
    widths = {r: expected_width(r, backends) for r in reads}
    for read, path in paths.items():
        values, why = _load(read, path, len(indices), widths[read])
        if values is not None:
            out[read] = values
        elif why != "missing":
            print(f"warning: rebuilding real-side cache: {why}")
    todo = [r for r in reads if r not in out]
    if todo:

        def step(rows: list[int]) -> EvalStep:  # the batch as the pass reads it
            batch = pairs.batch(rows).to(device)
            return EvalStep(batch, EditOutput(images=batch.source), "", backends, BatchMemo())

        computed = _compute(step, batches, todo, backends.in_worker, progress)
        for read, values in computed.items():
            problem = _problem(read, values, len(indices), widths[read])
            if problem is not None:
                label = getattr(backends.get(JUDGE_CALLS[read.call][0]), "label", "?")
                raise RuntimeError(
                    f"{read.call} of the real {read.side} images by {label} are unusable: {problem}"
                )
            save_checked(
                paths[read], paths[read].stem, {"values": values.cpu(), "device": str(values.device)}
            )
        out.update(computed)
    return out


def _compute(
    make_step: Callable[[list[int]], EvalStep],
    batches: list[list[int]],
    reads: list[RealRead],
    in_worker: Callable[[str], bool],
    progress: bool,
) -> dict[RealRead, torch.Tensor]:
    """Batch by batch; worker-run reads are started up to :data:`WORKER_AHEAD` batches early."""
    local = [r for r in reads if not in_worker(r.call)]
    remote = [r for r in reads if in_worker(r.call)]
    chunks: dict[RealRead, list[torch.Tensor]] = {r: [] for r in reads}
    ahead: deque[EvalStep] = deque()

    def collect(step: EvalStep) -> None:
        for r in remote:
            chunks[r].append(_as_stored(r, step.judge(r.call, r.side)))

    names = ", ".join(sorted({f"{r.call} ({r.side})" for r in reads}))
    for rows in tqdm(batches, desc=f"real side: {names}", unit="batch", disable=not progress):
        step = make_step(rows)
        for r in remote:
            step.prefetch(r.call, r.side)
        ahead.append(step)
        for r in local:
            chunks[r].append(_as_stored(r, step.judge(r.call, r.side)))
        if len(ahead) > WORKER_AHEAD:
            collect(ahead.popleft())
    while ahead:
        collect(ahead.popleft())
    return {r: torch.cat(c) if c else torch.zeros(0) for r, c in chunks.items()}


def _as_stored(read: RealRead, values: torch.Tensor) -> torch.Tensor:
    """FID features are kept in float64 (as the FID cache always did); other outputs as returned."""
    values = values.detach()
    return values.double() if read.call == "fid_features" else values


def expected_width(read: RealRead, backends: BackendSet) -> int | None:
    """Columns ``read`` must have: 17 for AU readings, else the backend's ``output_width`` (if declared)."""
    if read.call in ("aus", "aus2"):
        return N_AUS
    width = getattr(backends.get(JUDGE_CALLS[read.call][0]), "output_width", None)
    return int(width) if isinstance(width, int) else None


def _load(read: RealRead, path: Path, n: int, width: int | None = None) -> tuple[torch.Tensor | None, str]:
    """``(values on their recorded device, "")`` for a usable entry, else ``(None, why)``."""
    entry, why = load_checked(path, path.stem)
    if entry is None:
        return None, why
    values, device = entry.get("values"), entry.get("device")
    problem = _problem(read, values, n, width) or (None if isinstance(device, str) else "no device recorded")
    if problem is not None:
        return None, f"{path}: {problem}"
    return values.to(device), ""  # type: ignore[union-attr, arg-type]


def _problem(read: RealRead, values: object, n: int, width: int | None = None) -> str | None:
    """Why ``values`` cannot be ``read`` for ``n`` images of ``width`` columns (None when they can)."""
    bad_width = isinstance(values, torch.Tensor) and width is not None and values.shape[-1] != width
    if not isinstance(values, torch.Tensor) or values.dim() != 2 or values.shape[0] != n or bad_width:
        found = tuple(values.shape) if isinstance(values, torch.Tensor) else None
        return f"expected ({n}, {width or 'D'}) values, found {found}"
    if read.call == "fid_features" and not torch.isfinite(values).all():
        return "features contain NaN or infinite values"
    return None
