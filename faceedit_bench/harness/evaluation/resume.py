"""When an evaluation pass saves its resume state, and what Ctrl-C or SIGTERM does to it.

State is saved after the first finished batch, then after every batch while a save
is quick (else at most every :data:`CHECKPOINT_EVERY_S`), after the last batch, and
on Ctrl-C, SIGTERM or a :class:`PassStopped` error (a judge's worker process died). A signal that arrives while a finished batch is being recorded
waits until the record is whole, so saved state always ends on a batch boundary.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from faceedit_bench.harness.evaluation.partial import RunState, save_partial

CHECKPOINT_EVERY_S = 30.0
QUICK_SAVE_S = 0.5


class PassStopped(RuntimeError):
    """An error that stops the pass but leaves its finished batches worth keeping for a resume."""


class Saver:
    """Writes resume state: first batch, then every batch while quick (else every 30 s), last batch."""

    def __init__(self, path: Path, n_batches: int) -> None:
        self.path, self.n_batches = path, n_batches
        self.last_save, self.cost = 0.0, 0.0

    def save(self, state: RunState) -> None:
        t0 = time.monotonic()
        save_partial(state, self.path)
        self.last_save, self.cost = time.monotonic(), time.monotonic() - t0

    def maybe_save(self, state: RunState, last: bool) -> None:
        due = time.monotonic() - self.last_save > CHECKPOINT_EVERY_S
        if last or len(state.done_batches) == 1 or self.cost < QUICK_SAVE_S or due:
            self.save(state)


class Interrupts:
    """Ctrl-C and SIGTERM as KeyboardInterrupt, held back while a finished batch is committed."""

    def __init__(self) -> None:
        self.deferring, self.pending = False, False

    def handler(self, signum: int, frame: object) -> None:
        if self.deferring:
            self.pending = True
            return
        raise KeyboardInterrupt(f"signal {signum}")

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        self.deferring = True
        try:
            yield
        finally:
            self.deferring = False
        if self.pending:
            raise KeyboardInterrupt("interrupted")


@contextlib.contextmanager
def interrupts_save(saver: Saver, state: RunState) -> Iterator[Interrupts]:
    """On Ctrl-C, SIGTERM or :class:`PassStopped`, save the finished batches and say where (or that there are none)."""
    guard = Interrupts()
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, guard.handler)
    try:
        yield guard
    except (KeyboardInterrupt, PassStopped) as err:
        what = "interrupted" if isinstance(err, KeyboardInterrupt) else f"stopped ({err})"
        if state.done_batches:
            saver.save(state)
            print(
                f"{what}: {len(state.done_batches)} of {saver.n_batches} batches are saved in {saver.path}; "
                "run the same command again to resume"
            )
        else:
            print(f"{what} before the first batch finished: nothing was saved, nothing to resume")
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
