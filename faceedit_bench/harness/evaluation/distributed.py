"""The few ``torch.distributed`` calls the harness needs (no-ops in one process)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch.distributed as dist


def rank_and_world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def init_from_env() -> bool:
    """Join the process group when launched by ``torchrun`` (gloo on CPU, NCCL on GPU)."""
    if "WORLD_SIZE" not in os.environ or int(os.environ["WORLD_SIZE"]) <= 1:
        return False
    if not dist.is_initialized():
        import torch

        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend=backend)
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    return True


@contextmanager
def process_group() -> Iterator[None]:
    """Join the torchrun job for the duration of a run and leave it cleanly.

    Leaving matters: a gloo group still alive at interpreter exit can abort the
    process ("terminate called without an active exception") after the results
    were written, which torchrun reports as a failed job.
    """
    joined = not dist.is_initialized() and init_from_env()
    try:
        yield
    finally:
        if joined and dist.is_initialized():
            dist.barrier()
            dist.destroy_process_group()


def gather_objects(obj: Any) -> list[Any]:
    """Every rank's ``obj`` on every rank (a one-element list in one process)."""
    _, world = rank_and_world()
    if world == 1:
        return [obj]
    out: list[Any] = [None] * world
    dist.all_gather_object(out, obj)
    return out


def barrier() -> None:
    if rank_and_world()[1] > 1:
        dist.barrier()
