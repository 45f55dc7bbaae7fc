"""Slow single-threaded judges run in one process beside the evaluation pass (issue 16).

dlib's identity descriptor (one core, 55% of a real-face pass) and MediaPipe's AU
readings (``worker_process = True``) go to one spawned process, joined there by the
perceptual distance (LPIPS, ``joins_worker = True``: it balances the two cores, since the
pass is bound by Inception on its one thread); the process holds its own
instance of each backend class (built as :func:`faceedit_bench.harness.inputs.backends.choose_backends`
builds them: no arguments, then ``.to(device)``); the pass reads their outputs back
later, while it computes the other judges (Inception) itself on one torch thread fewer
(:class:`faceedit_bench.api.step.JudgeClock`). Images travel as numpy arrays, bit for
bit, and the worker runs the same code on them with the pass's torch thread count (their
bilinear upscale rounds differently on 1 and 2 threads; a ``lean_threads`` judge such as
LPIPS runs on one fewer there too, to float rounding of the in-process value), so its
outputs equal the in-process ones exactly.

Follows :class:`concurrent.futures.ProcessPoolExecutor` with one process and the
``spawn`` start method (a fresh interpreter: no copy of the parent's MediaPipe threads
or exit hooks; its own MediaPipe landmarker is closed by the same exit hook as in any
process, so nothing hangs at exit). The worker ignores Ctrl-C
(the pass handles it and shuts the worker down) and exits by itself if the pass's
process disappears. A worker that dies mid-run raises :class:`JudgeWorkerDied`
naming the judge; one that cannot start at all (e.g. a script without an
``if __name__ == "__main__":`` guard, which ``spawn`` re-imports) is, unless
required, replaced by the in-process backend with a warning.
"""

from __future__ import annotations

import dataclasses
import importlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

import numpy as np
import torch

from faceedit_bench.api.backends import Backend
from faceedit_bench.api.step import JUDGE_CALLS, BackendSet, JudgeClock
from faceedit_bench.harness.evaluation.resume import PassStopped
from faceedit_bench.harness.inputs.config import JUDGE_WORKER_MODES

WATCH_PARENT_S = 1.0
WORKER_AHEAD = 2  # batches whose calls the worker may hold queued beyond the one the pass waits on
START_TIMEOUT_S = 600.0  # a worker not ready by then never started (spawn + imports + weights take seconds)

_BACKENDS: dict[str, Backend] = {}  # the worker process's backends, by kind


def usable_cpus() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def start_workers(backends: BackendSet, device: str, mode: str = "auto", world: int = 1) -> BackendSet:
    """A copy of ``backends`` whose ``worker_process`` judges run in one worker process.

    ``mode``: ``off`` never; ``on`` always (a worker that cannot start is an error);
    ``auto`` when this process has at least two CPUs of its own (``world`` processes share them).
    """
    if mode not in JUDGE_WORKER_MODES:
        raise ValueError(f"judge worker mode must be one of {', '.join(JUDGE_WORKER_MODES)}, got {mode!r}")
    if mode == "off" or (mode == "auto" and usable_cpus() // max(world, 1) < 2):
        return backends
    kinds = dict.fromkeys(kind for kind, _ in JUDGE_CALLS.values())
    present = {kind: backend for kind in kinds if (backend := backends.get(kind)) is not None}
    chosen = {kind: b for kind, b in present.items() if getattr(b, "worker_process", False)}
    if not chosen:
        return backends
    chosen |= {kind: b for kind, b in present.items() if getattr(b, "joins_worker", False)}
    worker = JudgeWorker(chosen, device, required=mode == "on")  # type: ignore[arg-type]
    clock = dataclasses.replace(backends.clock, lean=True)
    return dataclasses.replace(backends, workers=dict.fromkeys(chosen, worker), clock=clock)


@contextmanager
def judge_workers(
    backends: BackendSet, device: str, mode: str = "auto", world: int = 1
) -> Iterator[BackendSet]:
    """:func:`start_workers` for the duration of a block; the worker is stopped when it ends."""
    started = start_workers(backends, device, mode, world)
    try:
        yield started
    finally:
        for worker in set(started.workers.values()) - set(backends.workers.values()):
            worker.close()


class JudgeWorkerDied(PassStopped):
    """The worker process of the judges exited while the pass still needed it."""


class JudgeWorker:
    """Judges (by backend kind) in one worker process; :meth:`submit` returns a :class:`Pending` output.

    One process for all of them: on a 2-core machine the pass keeps one core and the
    slow single-threaded judges share the other, in the order the pass asks for them.
    """

    take_back = True  # the pass computes calls still queued instead of waiting (off: a fixed call order)

    def __init__(self, backends: dict[str, Backend], device: str, *, required: bool = False) -> None:
        self.backends, self.required = backends, required
        self.label = ", ".join(b.label for b in backends.values())
        self.seconds: dict[str, float] = {}  # compute time reported by the worker, per judge label
        # calls this process computes itself, on the worker's threads: those it took back from the
        # queue, and every call when the worker could not start
        self._taken = JudgeClock(lean=True)
        self._instead = JudgeClock(self.seconds, lean=True)
        self.waited = 0.0  # time this process spent blocked on the worker
        self._queued: list[Pending] = []  # submitted calls, oldest first, that may not have started yet
        self.pid: int | None = None
        self._local = False  # the worker could not start: compute in this process
        self._pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_init,
            initargs=(os.getpid(), torch.get_num_threads()),
        )
        classes = {kind: (type(b).__module__, type(b).__qualname__) for kind, b in backends.items()}
        self._ready: Future = self._pool.submit(_worker_load, classes, device)

    def submit(self, kind: str, method: str, *images: torch.Tensor) -> Pending:
        """Start ``<backend of kind>.<method>(*images)`` in the worker."""
        if self._local:
            return Pending(self, None, kind, method, images)
        arrays = [x.detach().cpu().numpy() for x in images]
        try:
            future = self._pool.submit(_worker_call, kind, method, *arrays)
        except (BrokenProcessPool, RuntimeError) as err:  # already broken, or shut down
            future = Future()
            future.set_exception(err)
        pending = Pending(self, future, kind, method, images)
        while self._queued and self._queued[0].settled():  # keep only what may still be queued
            del self._queued[0]
        self._queued.append(pending)
        return pending

    def _wait_ready(self) -> None:
        """Raise (or fall back to this process) if the worker never started."""
        if self._local or self.pid is not None:
            return
        try:
            self.pid = self._ready.result(timeout=START_TIMEOUT_S)
        except Exception as err:
            if self.required:
                raise JudgeWorkerDied(
                    f"the worker process for judges {self.label} could not start: {type(err).__name__}: {err}"
                ) from err
            print(
                f"warning: the worker process for judges {self.label} could not start ({type(err).__name__}: "
                f"{err}); they run in this process instead (same numbers, slower). A script that runs an "
                "evaluation needs an `if __name__ == '__main__':` guard for the worker; --judge-worker off "
                "skips it"
            )
            self._local = True

    def _result(self, pending: Pending) -> torch.Tensor:
        """``pending``'s output; instead of waiting, this process computes calls still queued.

        Work stealing: a call the worker has not started is cancelled there and computed
        here (same code, same thread count: the same values); while the wanted call runs in
        the worker, this process takes the newest queued calls, the worker keeps the oldest.
        """
        self._wait_ready()
        if self._local or pending.future is None:
            return self._compute_here(pending, self._instead)
        while self.take_back and not pending.future.done():
            if pending.future.cancel():  # not started: cheaper to compute it than to wait for it
                return self._compute_here(pending, self._taken)
            if not self._take_newest(besides=pending):
                break
        label = self.backends[pending.kind].label
        start = time.perf_counter()
        try:
            array, device, seconds = pending.future.result()
        except BrokenProcessPool as err:
            raise JudgeWorkerDied(
                f"the worker process (pid {self.pid}) running judges {self.label} died while scoring "
                f"({err}); nothing it computed was used"
            ) from err
        finally:
            self.waited += time.perf_counter() - start
        self.seconds[label] = self.seconds.get(label, 0.0) + seconds
        return torch.from_numpy(array).to(device)

    def _take_newest(self, besides: Pending) -> bool:
        """Compute here the newest call the worker has not started; False when there is none."""
        for index in range(len(self._queued) - 1, -1, -1):
            candidate = self._queued[index]
            if candidate is besides or candidate.settled():
                continue
            if candidate.future.cancel():  # type: ignore[union-attr]  # settled() covers None
                self._compute_here(candidate, self._taken)
                return True
            # the worker runs calls in order: this one and every older one have started
            del self._queued[: index + 1]
            return False
        return False

    @property
    def taken(self) -> dict[str, float]:
        """Seconds this process spent on calls it took back from the queue, per judge label."""
        return self._taken.seconds

    def _compute_here(self, pending: Pending, clock: JudgeClock) -> torch.Tensor:
        """Run ``pending``'s call in this process (timed by ``clock``) and keep its output."""
        method = getattr(self.backends[pending.kind], pending.method)
        pending.value = clock.timed(self.backends[pending.kind], lambda: method(*pending.images))
        if pending in self._queued:
            self._queued.remove(pending)
        return pending.value

    def close(self) -> None:
        """Stop the worker (queued calls are dropped; a running one finishes first, unless it never started)."""
        self._pool.shutdown(wait=not self._local, cancel_futures=True)


class Pending:
    """A judge output being computed in a worker; :meth:`result` waits for it."""

    def __init__(
        self,
        worker: JudgeWorker,
        future: Future | None,
        kind: str,
        method: str,
        images: tuple[torch.Tensor, ...],
    ) -> None:
        self.worker, self.future, self.kind, self.method, self.images = worker, future, kind, method, images
        self.value: torch.Tensor | None = None  # set when this process computed it itself

    def result(self) -> torch.Tensor:
        return self.value if self.value is not None else self.worker._result(self)

    def settled(self) -> bool:
        """Computed here, or finished in the worker."""
        return self.value is not None or self.future is None or self.future.done()


def _worker_init(parent: int, threads: int) -> None:
    """In the worker: leave Ctrl-C to the pass, the pass's torch threads, exit when the pass is gone.

    The thread count matters for exactness, not speed: a judge's torch pre-processing
    (the bilinear upscale before dlib or MediaPipe) rounds differently on 1 and 2 threads.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(threads)

    def watch() -> None:
        while True:
            time.sleep(WATCH_PARENT_S)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="watch-parent").start()


def _worker_load(classes: dict[str, tuple[str, str]], device: str) -> int:
    """In the worker: build each backend once (kind -> (module, qualname)); returns the worker's pid."""
    for kind, (module, qualname) in classes.items():
        cls: object = importlib.import_module(module)
        for part in qualname.split("."):
            cls = getattr(cls, part)
        _BACKENDS[kind] = cls().to(device)  # type: ignore[operator]
    return os.getpid()


def _worker_call(kind: str, method: str, *images: np.ndarray) -> tuple[np.ndarray, str, float]:
    """In the worker: ``(output, its device, seconds)`` of one backend call.

    On the threads the pass gives a judge beside a worker (:class:`JudgeClock` with
    ``lean``), as for the calls the pass takes back: the same values either way.
    """
    backend, clock = _BACKENDS[kind], JudgeClock(lean=True)
    out = clock.timed(backend, lambda: getattr(backend, method)(*(torch.from_numpy(x) for x in images)))
    return out.detach().cpu().numpy(), str(out.device), sum(clock.seconds.values())
