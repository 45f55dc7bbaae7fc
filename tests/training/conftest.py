"""Tiny in-memory FaceDatasets and a tiny training config for the trainer's tests."""

import pytest
import torch

from faceedit_bench import plugins
from faceedit_bench.api.dataset import FaceDataset, FaceSample
from faceedit_bench.config import build_config
from faceedit_bench.training.config import TrainConfig


class TensorFaces(FaceDataset):
    """Images and AUs held in tensors; subclasses fill ``images``, ``aus`` and ``key``."""

    images: torch.Tensor
    aus: torch.Tensor
    key = "tensor"
    n_identities: int | None = None  # None: one identity per image

    def __len__(self) -> int:
        return len(self.images)

    def get(self, index: int) -> FaceSample:
        person = index % self.n_identities if self.n_identities else index
        return FaceSample(self.images[index], self.aus[index], f"id{person}", f"s{index}")

    def same_identity_partners(self, indices, generator):
        if not self.n_identities:
            return super().same_identity_partners(indices, generator)
        k, out = self.n_identities, []
        for i in indices:
            person = int(i) % k
            count = len(range(person, len(self), k))  # images person, person + k, ...
            out.append(person + k * int(torch.randint(count, (1,), generator=generator)))
        return out

    def cache_key(self) -> str:
        return self.key

    def make_pairs(self, n_pairs, seed, recipe="ganimation"):
        raise AssertionError("training must not ask for evaluation pairs (they carry ground truth)")


class TinyFaces(TensorFaces):
    """Random 16 px images with random AUs (no ground truth of any kind)."""

    key, n_identities = "tiny", 3

    def __init__(self, n: int = 12, resolution: int = 16, seed: int = 0, split: str = "train") -> None:
        g = torch.Generator().manual_seed(seed + (split != "train"))
        self.resolution = resolution
        self.images = torch.rand(n, 3, resolution, resolution, generator=g)
        self.aus = torch.rand(n, 17, generator=g) * 5


class BrightFaces(TensorFaces):
    """16 px images whose brightness is AU12 / 5 (the other AUs 0): an AU a critic can learn to read."""

    key = "bright"

    def __init__(self, split: str = "train", resolution: int = 16) -> None:
        g = torch.Generator().manual_seed(int(split == "val"))
        self.aus = torch.zeros(64, 17)
        self.aus[:, 8] = torch.rand(64, generator=g) * 5
        noise = torch.rand(64, 3, resolution, resolution, generator=g) * 0.1
        self.images = (self.aus[:, 8].view(-1, 1, 1, 1) / 5 * 0.9 + noise).clamp(0, 1)


class MouthBars(TensorFaces):
    """16 px grey images with a dark bar 2 + 2 * AU12 px wide: an AU carried by a shape, not a colour."""

    key = "mouth-bars"

    def __init__(self, split: str = "train", resolution: int = 16) -> None:
        g = torch.Generator().manual_seed(int(split == "val"))
        self.aus = torch.zeros(128, 17)
        self.aus[:, 8] = torch.rand(128, generator=g) * 5
        self.images = 0.6 + torch.rand(128, 3, 16, 16, generator=g) * 0.05
        for i, width in enumerate((2 + 2 * self.aus[:, 8]).round().long().tolist()):
            self.images[i, :, 10:12, 8 - width // 2 : 8 - width // 2 + width] = 0.2


@pytest.fixture
def tiny_faces():
    return TinyFaces


def _registered(name: str, cls: type[FaceDataset]):
    plugins.datasets.register(name, cls)
    yield name
    plugins.datasets.unregister(name)


@pytest.fixture
def bright_faces():
    yield from _registered("test-bright-faces", BrightFaces)


@pytest.fixture
def mouth_bars():
    yield from _registered("test-mouth-bars", MouthBars)


@pytest.fixture
def tiny_config(tmp_path):
    def make(editor: str = "two-stage", **overrides) -> TrainConfig:
        values = dict(editor=editor, resolution=16, batch_size=4, steps=4, g_every=2, out=tmp_path / editor,
                      channels=8, res_blocks=1, motion_res_blocks=1, critic_channels=8, val_every=2, val_size=4,
                      log_every=1, ckpt_every=2, progress=False, device="cpu", threads=1, au_detector="none", logger="none")  # fmt: skip
        values.update(overrides)
        return build_config(TrainConfig, **values)

    return make
