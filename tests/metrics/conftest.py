"""Fixtures for metric tests: build an EvalStep by hand with fake judge backends.

The suite runs with ``--import-mode=importlib``, so helpers reach tests as fixtures.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from faceedit_bench.api.backends import AUDetector, FeatureExtractor, IdentityModel, PerceptualDistance
from faceedit_bench.api.batch import PairBatch
from faceedit_bench.api.editor import EditOutput
from faceedit_bench.api.step import BackendSet, BatchMemo, EvalStep


class TableAUDetector(AUDetector):
    """Returns preset AUs for images identified by their first pixel value."""

    label = "table-au"

    def __init__(self, table: dict[float, torch.Tensor]) -> None:
        self.table = table

    def detect(self, images: torch.Tensor) -> torch.Tensor:
        return torch.stack([self.table[round(float(img[0, 0, 0]), 4)] for img in images])


class TableIdentity(IdentityModel):
    label = "table-id"
    threshold = 0.5

    def __init__(self, table: dict[float, torch.Tensor]) -> None:
        self.table = table

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        return torch.stack([self.table[round(float(img[0, 0, 0]), 4)] for img in images])


class PooledFeatures(FeatureExtractor):
    """A cheap deterministic feature map: per-channel 4x4 average pools, flattened (48-d)."""

    label = "pooled"

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.adaptive_avg_pool2d(images, 4).flatten(1).to(torch.float64)


class MeanAbsDistance(PerceptualDistance):
    label = "mean-abs"

    def distance(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return (a - b).abs().flatten(1).mean(dim=1)


def _make_step(
    batch: PairBatch,
    output: EditOutput,
    backends: BackendSet | None = None,
    memo: BatchMemo | None = None,
) -> EvalStep:
    return EvalStep(batch, output, "test-editor", backends or BackendSet(), memo or BatchMemo())


torch.set_num_threads(1)


def _pair_batch(n: int = 3, size: int = 24, seed: int = 0, ground_truth: bool = True) -> PairBatch:
    g = torch.Generator().manual_seed(seed)
    return PairBatch(
        source=torch.rand(n, 3, size, size, generator=g),
        target_aus=torch.rand(n, 17, generator=g) * 5,
        sample_ids=[f"s{i}" for i in range(n)],
        target_image=torch.rand(n, 3, size, size, generator=g) if ground_truth else None,
    )


@pytest.fixture
def make_step():
    return _make_step


@pytest.fixture
def pair_batch():
    return _pair_batch


@pytest.fixture
def fakes() -> SimpleNamespace:
    return SimpleNamespace(
        au=TableAUDetector, identity=TableIdentity, features=PooledFeatures, distance=MeanAbsDistance
    )
