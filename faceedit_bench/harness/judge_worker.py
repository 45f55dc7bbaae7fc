"""A slow judge run in its own process beside the evaluation pass (issue 16).

dlib's identity descriptor is single-threaded and was 55% of a real-face pass; the
pass hands its images to one spawned process that holds its own instance of the same
backend class (built as :func:`faceedit_bench.harness.backends.choose_backends` builds
it: no arguments, then ``.to(device)``) and reads the outputs back later, while it
computes the other judges itself. Images travel as numpy arrays, bit for bit, and the
worker runs the same code on them, so its outputs equal the in-process ones exactly.

Follows :class:`concurrent.futures.ProcessPoolExecutor` with one process and the
``spawn`` start method (a fresh interpreter: no copy of MediaPipe's threads or of
the parent's exit hooks, so nothing to hang on at exit). The worker ignores Ctrl-C
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
from faceedit_bench.harness.config import JUDGE_WORKER_MODES
from faceedit_bench.harness.resume import PassStopped
from faceedit_bench.harness.step import JUDGE_CALLS, BackendSet

WATCH_PARENT_S = 1.0
START_TIMEOUT_S = 600.0  # a worker not ready by then never started (spawn + imports + weights take seconds)

_BACKEND: Backend | None = None  # the worker process's backend


def usable_cpus() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def start_workers(backends: BackendSet, device: str, mode: str = "auto", world: int = 1) -> BackendSet:
    """A copy of ``backends`` whose ``worker_process`` judges run in worker processes.

    ``mode``: ``off`` never; ``on`` always (a worker that cannot start is an error);
    ``auto`` when this process has at least two CPUs of its own (``world`` processes share them).
    """
    if mode not in JUDGE_WORKER_MODES:
        raise ValueError(f"judge worker mode must be one of {', '.join(JUDGE_WORKER_MODES)}, got {mode!r}")
    if mode == "off" or (mode == "auto" and usable_cpus() // max(world, 1) < 2):
        return backends
    kinds = dict.fromkeys(kind for kind, _ in JUDGE_CALLS.values())
    chosen = {kind: backends.get(kind) for kind in kinds}
    workers = {
        kind: JudgeWorker(backend, device, required=mode == "on")  # type: ignore[arg-type]
        for kind, backend in chosen.items()
        if backend is not None and getattr(backend, "worker_process", False)
    }
    return dataclasses.replace(backends, workers={**backends.workers, **workers}) if workers else backends


@contextmanager
def judge_workers(
    backends: BackendSet, device: str, mode: str = "auto", world: int = 1
) -> Iterator[BackendSet]:
    """:func:`start_workers` for the duration of a block; the workers are stopped when it ends."""
    started = start_workers(backends, device, mode, world)
    try:
        yield started
    finally:
        for worker in started.workers.values():
            if worker not in backends.workers.values():
                worker.close()


class JudgeWorkerDied(PassStopped):
    """The worker process of a judge exited while the pass still needed it."""


class JudgeWorker:
    """One backend in one worker process; :meth:`submit` returns a :class:`Pending` output."""

    def __init__(self, backend: Backend, device: str, *, required: bool = False) -> None:
        self.backend, self.label, self.required = backend, backend.label, required
        self.seconds = 0.0  # compute time reported by the worker
        self.waited = 0.0  # time this process spent blocked on the worker
        self.pid: int | None = None
        self._local = False  # the worker could not start: compute in this process
        cls = type(backend)
        self._pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_init,
            initargs=(os.getpid(),),
        )
        self._ready: Future = self._pool.submit(_worker_load, cls.__module__, cls.__qualname__, device)

    def submit(self, method: str, images: torch.Tensor) -> Pending:
        """Start ``backend.<method>(images)`` in the worker."""
        if self._local:
            return Pending(self, None, method, images)
        array = images.detach().cpu().numpy()
        try:
            future = self._pool.submit(_worker_call, method, array)
        except (BrokenProcessPool, RuntimeError) as err:  # already broken, or shut down
            future = Future()
            future.set_exception(err)
        return Pending(self, future, method, images)

    def _wait_ready(self) -> None:
        """Raise (or fall back to this process) if the worker never started."""
        if self._local or self.pid is not None:
            return
        try:
            self.pid = self._ready.result(timeout=START_TIMEOUT_S)
        except Exception as err:
            if self.required:
                raise JudgeWorkerDied(
                    f"the {self.label} judge could not start in its worker process: {type(err).__name__}: {err}"
                ) from err
            print(
                f"warning: the {self.label} judge could not start in a worker process ({type(err).__name__}: "
                f"{err}); it runs in this process instead (same numbers, slower). A script that runs an "
                "evaluation needs an `if __name__ == '__main__':` guard for the worker; --judge-worker off "
                "skips it"
            )
            self._local = True

    def _result(self, pending: Pending) -> torch.Tensor:
        self._wait_ready()
        start = time.perf_counter()
        if self._local or pending.future is None:
            out = getattr(self.backend, pending.method)(pending.images)
            self.seconds += time.perf_counter() - start
            return out
        try:
            array, device, seconds = pending.future.result()
        except BrokenProcessPool as err:
            raise JudgeWorkerDied(
                f"the worker process (pid {self.pid}) of the {self.label} judge died while scoring "
                f"({err}); nothing it computed was used"
            ) from err
        finally:
            self.waited += time.perf_counter() - start
        self.seconds += seconds
        return torch.from_numpy(array).to(device)

    def close(self) -> None:
        """Stop the worker (queued calls are dropped; a running one finishes first, unless it never started)."""
        self._pool.shutdown(wait=not self._local, cancel_futures=True)


class Pending:
    """A judge output being computed in a worker; :meth:`result` waits for it."""

    def __init__(self, worker: JudgeWorker, future: Future | None, method: str, images: torch.Tensor) -> None:
        self.worker, self.future, self.method, self.images = worker, future, method, images

    def result(self) -> torch.Tensor:
        return self.worker._result(self)


def _worker_init(parent: int) -> None:
    """In the worker: leave Ctrl-C to the pass, one torch thread, exit when the pass is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(1)

    def watch() -> None:
        while True:
            time.sleep(WATCH_PARENT_S)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="watch-parent").start()


def _worker_load(module: str, qualname: str, device: str) -> int:
    """In the worker: build the backend once; returns the worker's pid."""
    global _BACKEND
    cls: object = importlib.import_module(module)
    for part in qualname.split("."):
        cls = getattr(cls, part)
    _BACKEND = cls().to(device)  # type: ignore[operator]
    return os.getpid()


def _worker_call(method: str, images: np.ndarray) -> tuple[np.ndarray, str, float]:
    """In the worker: ``(output, its device, seconds)`` of one backend call."""
    start = time.perf_counter()
    out = getattr(_BACKEND, method)(torch.from_numpy(images))
    return out.detach().cpu().numpy(), str(out.device), time.perf_counter() - start
