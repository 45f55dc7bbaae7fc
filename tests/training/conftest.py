"""A tiny random FaceDataset and a tiny training config for the trainer's tests."""

import pytest
import torch

from faceedit_bench.api.dataset import FaceDataset, FaceSample
from faceedit_bench.config import build_config
from faceedit_bench.training.config import TrainConfig


class TinyFaces(FaceDataset):
    """Random 16 px images with random AUs (no ground truth of any kind)."""

    def __init__(self, n: int = 12, resolution: int = 16, seed: int = 0, split: str = "train") -> None:
        g = torch.Generator().manual_seed(seed + (split != "train"))
        self.resolution = resolution
        self.images = torch.rand(n, 3, resolution, resolution, generator=g)
        self.aus = torch.rand(n, 17, generator=g) * 5

    def __len__(self) -> int:
        return len(self.images)

    def get(self, index: int) -> FaceSample:
        return FaceSample(self.images[index], self.aus[index], f"id{index % 3}", f"s{index}")

    def cache_key(self) -> str:
        return "tiny"

    def make_pairs(self, n_pairs, seed, recipe="ganimation"):
        raise AssertionError("training must not ask for evaluation pairs (they carry ground truth)")


@pytest.fixture
def tiny_faces():
    return TinyFaces


@pytest.fixture
def tiny_config(tmp_path):
    def make(editor: str = "two-stage", **overrides) -> TrainConfig:
        values = dict(editor=editor, resolution=16, batch_size=4, steps=4, g_every=2, out=tmp_path / editor,
                      channels=8, res_blocks=1, motion_res_blocks=1, critic_channels=8, val_every=2, val_size=4,
                      log_every=1, ckpt_every=2, progress=False, device="cpu", threads=1, au_detector="none", logger="none")  # fmt: skip
        values.update(overrides)
        return build_config(TrainConfig, **values)

    return make
