"""Run AU-rig rendering on one intra-op thread.

The renderer issues hundreds of small elementwise ops per batch; splitting each
across threads costs more in synchronisation than it saves, and on a busy machine
it is catastrophic (measured at 64 px, 2 threads, load ~3: 7 img/s instead of ~900).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Temporarily ``torch.set_num_threads(1)``; restores the caller's setting."""
    before = torch.get_num_threads()
    if before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
