"""What a metric sees for one batch and one editor, with per-batch memoised backend calls.

Source- and target-side detections are computed once per batch and shared by every
editor and metric (the "one pass" of the harness), or read from the real-side cache
(:mod:`faceedit_bench.harness.evaluation.real_side`); edited-side ones once per editor. A judge that runs in a worker
process (:mod:`faceedit_bench.harness.evaluation.judge_worker`) can be started early with :meth:`EvalStep.prefetch`
and is waited for only when a metric reads it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

import torch
import torch.nn.functional as F

from faceedit_bench.api.backends import AUDetector, FeatureExtractor, IdentityModel, PerceptualDistance
from faceedit_bench.api.batch import PairBatch
from faceedit_bench.api.editor import EditOutput


class PendingOutput(Protocol):
    """A judge output being computed elsewhere (a worker process); :meth:`result` waits for it."""

    def result(self) -> torch.Tensor: ...


class JudgeRunner(Protocol):
    """Runs judges out of process (:class:`~faceedit_bench.harness.evaluation.judge_worker.JudgeWorker`)."""

    def submit(self, kind: str, method: str, *images: torch.Tensor) -> PendingOutput: ...


Which = Literal["source", "edited", "target", "reference"]  # reference: a held-out real set (FID/KID)

# judge call -> (backend kind, backend method); metrics declare what they read by these names.
# A call reads one side ("edited") or, for a distance, two joined by a colon ("edited:target").
JUDGE_CALLS: dict[str, tuple[str, str]] = {
    "aus": ("au_detector", "detect"),
    "aus2": ("au_detector_2", "detect"),
    "embedding": ("identity", "embed"),
    "fid_features": ("fid_features", "features"),
    "lpips": ("lpips", "distance"),
}

MISSABLE_CALLS = ("aus", "aus2", "embedding")  # judge calls whose NaN row means "no face found"


def sides_of(which: str) -> list[Which]:
    """The sides a judge call reads: ``"edited:target"`` -> ``["edited", "target"]``."""
    return which.split(":")  # type: ignore[return-value]


@dataclass
class JudgeClock:
    """Seconds spent inside each judge (by label) in this process, and the threads it runs on.

    With ``lean`` (a worker process runs beside the pass), a judge flagged ``lean_threads``
    runs on one torch thread fewer than the pass, for the whole pass, so the two processes
    do not compete for the same cores; every other judge, and every editor, runs on the
    pass's threads, so AU and identity readings stay exactly what they are without a worker.
    """

    seconds: dict[str, float] = field(default_factory=dict)
    lean: bool = False

    def threads_for(self, backend: object) -> int:
        """Torch threads ``backend`` runs on in this pass."""
        threads = torch.get_num_threads()
        return max(1, threads - 1) if self.lean and getattr(backend, "lean_threads", False) else threads

    def timed(self, backend: object, compute: Callable[[], torch.Tensor]) -> torch.Tensor:
        """``compute()`` (a call of ``backend``) on its threads, timed under its label."""
        threads, label = torch.get_num_threads(), getattr(backend, "label", "?")
        torch.set_num_threads(self.threads_for(backend))
        start = time.perf_counter()
        try:
            return compute()
        finally:
            torch.set_num_threads(threads)
            self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - start


@dataclass
class BackendSet:
    """The judge backends chosen for one protocol run (None where unavailable).

    ``workers`` maps a backend kind to the worker process that runs it (see
    :mod:`faceedit_bench.harness.evaluation.judge_worker`); ``clock`` times the judges run in this process.
    """

    au_detector: AUDetector | None = None
    au_detector_2: AUDetector | None = None  # a second, independent AU judge where the protocol has one
    identity: IdentityModel | None = None
    fid_features: FeatureExtractor | None = None
    lpips: PerceptualDistance | None = None
    workers: dict[str, JudgeRunner] = field(default_factory=dict)
    clock: JudgeClock = field(default_factory=JudgeClock)

    def get(self, kind: str) -> object | None:
        return getattr(self, kind)

    def in_worker(self, call: str) -> bool:
        """Whether judge ``call`` runs in a worker process."""
        return JUDGE_CALLS[call][0] in self.workers


@dataclass
class BatchMemo:
    """Per-batch cache shared across editors for source/target-side computations."""

    values: dict[tuple, torch.Tensor | PendingOutput] = field(default_factory=dict)


def resize_square(images: torch.Tensor, size: int | None) -> torch.Tensor:
    """``images`` resized (bilinear, antialiased) to ``size`` x ``size``; unchanged when None or equal."""
    if _fits(images, size):
        return images
    return F.interpolate(
        images, size=(size, size), mode="bilinear", antialias=True, align_corners=False
    ).clamp(0, 1)


def _fits(images: torch.Tensor, size: int | None) -> bool:
    return size is None or (images.shape[-1] == size and images.shape[-2] == size)


class EvalStep:
    """One (batch, editor output) pair as seen by the metrics."""

    def __init__(
        self,
        batch: PairBatch,
        output: EditOutput,
        editor: str,
        backends: BackendSet,
        shared: BatchMemo,
        failed: torch.Tensor | None = None,
    ) -> None:
        self.batch = batch
        # (N,) bool: rows the editor failed on (a stand-in image, see harness.robust_edit);
        # every judge call that can miss a face reports none there
        self.failed = failed if failed is not None and bool(failed.any()) else None
        self.output = output
        self.editor = editor
        self.backends = backends
        self._shared = shared
        self._own: dict[tuple, torch.Tensor | PendingOutput] = {}

    def images(self, which: Which) -> torch.Tensor:
        if which == "source":
            return self.batch.source
        if which == "edited":
            return self.output.images
        if which == "reference":
            if self.batch.reference_image is None:
                raise ValueError("these pairs have no held-out reference images")
            return self.batch.reference_image
        if self.batch.target_image is None:
            raise ValueError("this protocol has no ground-truth target images")
        return self.batch.target_image

    def _memo(self, which: str) -> dict[tuple, torch.Tensor | PendingOutput]:
        return self._own if "edited" in sides_of(which) else self._shared.values

    def resized(self, which: Which, size: int | None) -> torch.Tensor:
        """``images(which)`` resized (bilinear, antialiased) to ``size`` once per batch."""
        img = self.images(which)
        if _fits(img, size):
            return img
        store, key = self._memo(which), (which, "resize", size)
        if key not in store:
            store[key] = resize_square(img, size)
        return store[key]  # type: ignore[return-value]

    def judge(self, call: str, which: str) -> torch.Tensor:
        """Output of judge ``call`` (a key of :data:`JUDGE_CALLS`) on ``which``, once per batch."""
        kind = JUDGE_CALLS[call][0]
        key = (which, call, self._need(self.backends.get(kind), kind).label)
        store = self._memo(which)
        if key not in store:
            self._start(call, which, in_worker=kind in self.backends.workers)
        value = store[key]
        if not isinstance(value, torch.Tensor):  # a worker's pending output
            value = store[key] = self._blank_failed(call, which, value.result())
        return value

    def _blank_failed(self, call: str, which: str, value: torch.Tensor) -> torch.Tensor:
        """``value`` with the failed rows of the edits as missed faces (NaN rows) for face-finding judges."""
        if self.failed is None or call not in MISSABLE_CALLS or "edited" not in sides_of(which):
            return value
        value = value.clone()
        value[self.failed.to(value.device)] = float("nan")
        return value

    def prefetch(self, call: str, which: str) -> None:
        """Start ``call`` on ``which`` in its judge's worker process now (no-op for in-process judges)."""
        kind = JUDGE_CALLS[call][0]
        backend = self.backends.get(kind)
        if kind not in self.backends.workers or backend is None:
            return
        if (which, call, backend.label) not in self._memo(which):  # type: ignore[attr-defined]
            self._start(call, which, in_worker=True)

    def _start(self, call: str, which: str, in_worker: bool) -> None:
        kind, method = JUDGE_CALLS[call]
        backend = self.backends.get(kind)
        images = [self.resized(side, backend.input_size) for side in sides_of(which)]  # type: ignore[union-attr]
        key = (which, call, backend.label)  # type: ignore[union-attr]
        if in_worker:
            self._memo(which)[key] = self.backends.workers[kind].submit(kind, method, *images)
        else:
            compute = getattr(backend, method)
            value = self.backends.clock.timed(backend, lambda: compute(*images))
            self._memo(which)[key] = self._blank_failed(call, which, value)

    def aus(self, which: Which) -> torch.Tensor:
        return self.judge("aus", which)

    def embedding(self, which: Which) -> torch.Tensor:
        return self.judge("embedding", which)

    def fid_features(self, which: Which) -> torch.Tensor:
        return self.judge("fid_features", which)

    def lpips(self, a: Which, b: Which) -> torch.Tensor:
        return self.judge("lpips", f"{a}:{b}")

    @staticmethod
    def _need(backend, kind: str):
        if backend is None:
            raise RuntimeError(f"no {kind} backend is available for this protocol")
        return backend
