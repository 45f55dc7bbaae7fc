"""Data-parallel training under ``torchrun``: process group, batch sharding, gradient averaging.

Every rank draws the same global batch indices, target AUs and penalty weights from
the same seeded generator and keeps its contiguous slice, so the union over ranks is
exactly the single-process batch. Gradients are averaged with one all-reduce per
network after each backward, as DistributedDataParallel does; we do it explicitly
(as StyleGAN2-ADA does) because WGAN-GP's double backward and the alternating
critic/generator steps do not fit DDP's one-forward-one-backward reducer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class DistEnv:
    """This process' place in the job (world size 1 without torchrun)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def shard(self, tensor: torch.Tensor) -> torch.Tensor:
        """This rank's contiguous slice of a global-batch tensor."""
        n = tensor.shape[0]
        if n % self.world_size:
            raise ValueError(f"global batch {n} is not divisible by {self.world_size} ranks")
        per = n // self.world_size
        return tensor[self.rank * per : (self.rank + 1) * per]


def init_distributed(device: torch.device) -> DistEnv:
    """Join the torchrun job described by the environment (NCCL on CUDA, gloo on CPU)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistEnv()
    env = DistEnv(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")))
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return env


def device_for(env: DistEnv, device: torch.device) -> torch.device:
    """One GPU per local rank under torchrun."""
    if device.type == "cuda" and env.enabled:
        torch.cuda.set_device(env.local_rank)
        return torch.device("cuda", env.local_rank)
    return device


def average_gradients(module: nn.Module, env: DistEnv) -> None:
    """Replace every parameter gradient by its mean over ranks (one flat all-reduce)."""
    if not env.enabled:
        return
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= env.world_size
    offset = 0
    for g in grads:
        g.copy_(flat[offset : offset + g.numel()].view_as(g))
        offset += g.numel()


def broadcast_module(module: nn.Module, env: DistEnv) -> None:
    """Make every rank start from rank 0's weights."""
    if env.enabled:
        for tensor in [*module.parameters(), *module.buffers()]:
            dist.broadcast(tensor.data, src=0)


def global_mean(x: torch.Tensor, env: DistEnv) -> torch.Tensor:
    """Mean of per-rank means ``x`` over ranks, differentiable (for batch statistics)."""
    if not env.enabled:
        return x
    import warnings

    from torch.distributed.nn.functional import all_reduce  # the differentiable one

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return all_reduce(x) / env.world_size


def broadcast_int(value: int, env: DistEnv) -> int:
    """Rank 0's ``value`` on every rank (e.g. a planned step count or a stop flag)."""
    if not env.enabled:
        return value
    t = torch.tensor([value], dtype=torch.long)
    if dist.get_backend() == "nccl":
        t = t.cuda()
    dist.broadcast(t, src=0)
    return int(t.item())


def shutdown(env: DistEnv) -> None:
    if env.enabled and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
