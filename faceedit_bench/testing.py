"""Test support: a tiny dataset + protocol with exact ground truth, registered on import.

The tiny pairs are smooth random images; the target is the source shifted by one
pixel, so the true flow is exact and the identity/oracle bounds are known in closed
form. Importing this module (tests, or a ``torchrun`` child in the sharding test)
registers dataset and protocol ``tiny``; nothing registers it otherwise.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Sequence
from typing import ClassVar

import torch
import torch.nn.functional as F

from faceedit_bench import plugins
from faceedit_bench.api.backends import IdentityModel, PerceptualDistance
from faceedit_bench.api.batch import PairBatch
from faceedit_bench.api.dataset import FaceDataset, FaceSample, PairSet
from faceedit_bench.api.protocol import Protocol
from faceedit_bench.data.images import upscale_short_side

TINY_SIZE = 16


def _smooth_image(seed: int, size: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(1, 3, 4, 4, generator=g)
    return F.interpolate(low, size=(size, size), mode="bicubic", align_corners=False).clamp(0, 1)[0]


class TinyPairs(PairSet):
    has_ground_truth = True

    def __init__(self, n: int, size: int, seed: int) -> None:
        self.n, self.size, self.seed = n, size, seed

    def __len__(self) -> int:
        return self.n

    def cache_key(self) -> str:
        return f"tiny-{self.n}-{self.size}-{self.seed}"

    def batch(self, indices: Sequence[int]) -> PairBatch:
        src = torch.stack([_smooth_image(self.seed * 1000 + i, self.size) for i in indices])
        shift = 1  # target(x) = source(x - 1 px) horizontally
        tgt = torch.roll(src, shifts=shift, dims=-1)
        h = w = self.size
        ys = torch.linspace(-1 + 1 / h, 1 - 1 / h, h)
        xs = torch.linspace(-1 + 1 / w, 1 - 1 / w, w) - 2 * shift / w
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")
        flow = torch.stack([gx, gy], -1).expand(len(indices), h, w, 2).clone()
        mask = torch.zeros(len(indices), 1, h, w)
        mask[..., :shift] = 1  # wrapped-around column: no warp explains it
        g = torch.Generator().manual_seed(self.seed)
        aus = torch.rand(self.n, 17, generator=g) * 5
        idx = torch.as_tensor(list(indices))
        return PairBatch(
            source=src,
            target_aus=aus[idx],
            source_aus=aus[(idx + 1) % self.n],
            target_image=tgt,
            flow=flow,
            texture_mask=mask,
            sample_ids=[f"tiny{i:03d}" for i in indices],
            identity_ids=[f"id{i % 3}" for i in indices],
        )


class TinyDataset(FaceDataset):
    """Registered as ``tiny`` for the duration of the test session."""

    def __init__(self, split: str = "test", resolution: int = TINY_SIZE) -> None:
        self.resolution, self.split = resolution, split

    def __len__(self) -> int:
        return 8

    def get(self, index: int) -> FaceSample:
        return FaceSample(_smooth_image(index, self.resolution), torch.zeros(17), "id0", f"s{index}")

    def cache_key(self) -> str:
        return f"tiny-{self.split}-{self.resolution}"

    def make_pairs(self, n_pairs: int, seed: int, recipe: str = "ganimation") -> PairSet:
        return TinyPairs(n_pairs, self.resolution, seed)


TINY_PROTOCOL = Protocol(
    name="tiny",
    version=1,
    dataset="tiny",
    dataset_args={"resolution": TINY_SIZE},
    split="test",
    resolution=TINY_SIZE,
    n_pairs=10,
    seed=3,
    metrics=("psnr", "ssim", "flow_epe"),
    backends={},
    batch_size=4,
    default_editors=("identity", "oracle"),
    description="tests only",
)


class PixelIdentity(IdentityModel):
    """Test identity judge that runs in a worker process: unit-length projection of 4x4-pooled pixels.

    Like dlib's judge it first upscales (bilinear, to 256 px) and rounds to 8 bits, which
    makes its outputs depend on the torch thread count.

    Two switches, read in the worker process only (a spawned child): with
    ``FACEEDIT_TEST_WORKER_EXIT_AT=K`` its K-th call kills the worker (exit code 3), with
    ``FACEEDIT_TEST_WORKER_NO_START=1`` it cannot be built there, with
    ``FACEEDIT_TEST_WORKER_SLOW_S=S`` each call there first sleeps S seconds.
    """

    label: ClassVar[str] = "pixel-id-test"
    threshold: ClassVar[float] = 0.99
    worker_process: ClassVar[bool] = True

    def __init__(self) -> None:
        in_worker = multiprocessing.parent_process() is not None
        if in_worker and os.environ.get("FACEEDIT_TEST_WORKER_NO_START"):
            raise RuntimeError("PixelIdentity: told not to start in a worker")
        self.exit_at = int(os.environ.get("FACEEDIT_TEST_WORKER_EXIT_AT", "0")) if in_worker else 0
        self.slow_s = float(os.environ.get("FACEEDIT_TEST_WORKER_SLOW_S", "0")) if in_worker else 0.0
        self.proj = torch.randn(3 * 4 * 4, 8, generator=torch.Generator().manual_seed(0))
        self.calls = 0

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.calls == self.exit_at:
            os._exit(3)
        time.sleep(self.slow_s)
        pixels = (upscale_short_side(images.float(), 256) * 255).round()
        vec = F.adaptive_avg_pool2d(pixels, 4).flatten(1) @ self.proj
        return vec / vec.norm(dim=1, keepdim=True)


class PixelDistance(PerceptualDistance):
    """Test distance judge: mean absolute pixel difference, recording where it ran.

    Like LPIPS it joins a worker process started for a slow judge and runs on one
    thread fewer there; ``threads`` holds the thread counts it saw in this process.
    """

    label: ClassVar[str] = "pixel-dist-test"
    lean_threads: ClassVar[bool] = True
    joins_worker: ClassVar[bool] = True
    threads: ClassVar[set[int]] = set()

    def distance(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        self.threads.add(torch.get_num_threads())
        return (a.double() - b.double()).abs().flatten(1).mean(1)


def register() -> None:
    """Register the ``tiny`` dataset and protocol (idempotent)."""
    if "tiny" not in plugins.datasets:
        plugins.datasets.register("tiny", TinyDataset, help="tests only: shifted smooth noise")
        plugins.protocols.register("tiny", TINY_PROTOCOL)


register()
