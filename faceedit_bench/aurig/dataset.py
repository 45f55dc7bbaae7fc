"""AU-rig as a :class:`FaceDataset`: samples and pair sets rendered on the fly.

Sample ``i`` of a split shows identity ``i // SAMPLES_PER_IDENTITY`` with AUs drawn
from :mod:`faceedit_bench.aurig.expressions`; both are pure functions of
(split, seed, index), so any subset renders identically in any batch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from faceedit_bench.api.aus import AU_MAX, N_AUS, au_index
from faceedit_bench.api.batch import ImageBatch
from faceedit_bench.api.dataset import FaceDataset, FaceSample
from faceedit_bench.aurig.expressions import sample_aus
from faceedit_bench.aurig.identity import Identity, sample_identities
from faceedit_bench.aurig.pairs import AuRigPairSet
from faceedit_bench.aurig.render import check_resolution, render
from faceedit_bench.aurig.rng import STREAM_PAIRS, STREAM_SAMPLE_AUS, identity_keys, mix, split_code, uniforms
from faceedit_bench.aurig.threads import single_thread
from faceedit_bench.aurig.version import dataset_hash

SAMPLES_PER_IDENTITY = 10
DEFAULT_SIZES = {"train": 20000, "val": 2000, "test": 2000, "reference": 20000}


class AuRigDataset(FaceDataset):
    """Procedural faces with exact AUs, landmarks and, for pairs, true targets and flow."""

    def __init__(
        self, split: str = "train", resolution: int = 64, size: int | None = None, seed: int = 0
    ) -> None:
        split_code(split)  # validates the name
        check_resolution(resolution)
        self.split = split
        self.resolution = resolution
        self.size = DEFAULT_SIZES[split] if size is None else int(size)
        if self.size < 1:
            raise ValueError(f"AU-rig size must be >= 1, got {size}")
        self.seed = int(seed)
        self.n_identities = math.ceil(self.size / SAMPLES_PER_IDENTITY)
        identity_keys(split, self.seed, np.zeros(1))  # validates the seed

    def __len__(self) -> int:
        return self.size

    # --- per-index ground truth -----------------------------------------------------
    def _check(self, indices: Sequence[int]) -> np.ndarray:
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= self.size):
            raise IndexError(f"AU-rig {self.split}: index out of range [0, {self.size})")
        return idx

    def identity_index(self, indices: Sequence[int]) -> np.ndarray:
        return self._check(indices) // SAMPLES_PER_IDENTITY

    def identities(self, identity_indices: Sequence[int]) -> Identity:
        return sample_identities(identity_keys(self.split, self.seed, np.asarray(identity_indices)))

    def identity_name(self, identity_index: int) -> str:
        return f"aurig-{self.split}-s{self.seed}-id{int(identity_index):06d}"

    def aus(self, indices: Sequence[int]) -> torch.Tensor:
        """(N, 17) AU intensities of samples ``indices``."""
        idx = self._check(indices)
        return sample_aus(mix(split_code(self.split), self.seed, idx), STREAM_SAMPLE_AUS)

    def landmarks(self, indices: Sequence[int]) -> torch.Tensor:
        """(N, 29, 2) landmarks in [-1, 1] image coordinates (see ``landmarks.LANDMARK_NAMES``)."""
        idx = self._check(indices)
        with single_thread():
            return render(
                self.identities(idx // SAMPLES_PER_IDENTITY), self.aus(idx), self.resolution
            ).landmarks

    # --- FaceDataset ------------------------------------------------------------------
    def get(self, index: int) -> FaceSample:
        b = self.get_batch([index])
        return FaceSample(b.images[0], b.aus[0], b.identity_ids[0], self.sample_name(index))

    def sample_name(self, index: int) -> str:
        return f"aurig-{self.split}-s{self.seed}-{int(index):07d}"

    def get_batch(self, indices: Sequence[int]) -> ImageBatch:
        idx = self._check(indices)
        ids = idx // SAMPLES_PER_IDENTITY
        aus = self.aus(idx)
        with single_thread():
            images = render(self.identities(ids), aus, self.resolution).images
        return ImageBatch(images=images, aus=aus, identity_ids=[self.identity_name(i) for i in ids])

    def same_identity_partners(self, indices: Sequence[int], generator: torch.Generator) -> list[int]:
        idx = self._check(indices)
        offset = torch.randint(SAMPLES_PER_IDENTITY, (len(idx),), generator=generator).numpy()
        partners = np.minimum(idx // SAMPLES_PER_IDENTITY * SAMPLES_PER_IDENTITY + offset, self.size - 1)
        return partners.tolist()

    def cache_key(self) -> str:
        return f"aurig-{dataset_hash()}-{self.split}-r{self.resolution}-n{self.size}-s{self.seed}"

    def make_pairs(self, n_pairs: int, seed: int, recipe: str = "ganimation") -> AuRigPairSet:
        """Edit requests with ground truth: ``"ganimation"`` or ``"sweep:AUxx"`` (6 levels 0..5)."""
        if n_pairs < 1:
            raise ValueError(f"n_pairs must be >= 1, got {n_pairs}")
        if recipe == "ganimation":
            return self._ganimation_pairs(n_pairs, seed)
        if recipe.startswith("sweep:"):
            steps = 6
            return self.make_sweep(recipe.split(":", 1)[1], steps, math.ceil(n_pairs / steps), seed).head(
                n_pairs
            )
        raise ValueError(f"unknown AU-rig pair recipe {recipe!r}; known: 'ganimation', 'sweep:AUxx'")

    def _ganimation_pairs(self, n_pairs: int, seed: int) -> AuRigPairSet:
        """Source = a random sample; target AUs = another sample's AUs + U(-0.5, 0.5), clipped to [0, 5]."""
        keys = mix(split_code(self.split), self.seed, seed, np.arange(n_pairs))
        u = uniforms(keys, 2 + N_AUS, STREAM_PAIRS)
        src = np.minimum((u[:, 0] * self.size).astype(np.int64), self.size - 1)
        other = np.minimum((u[:, 1] * self.size).astype(np.int64), self.size - 1)
        noise = torch.from_numpy((u[:, 2:] * 2 - 1) * 0.1 * AU_MAX).float()  # GANimation's U(-0.1, 0.1) on /5
        target_aus = (self.aus(other) + noise).clamp(0, AU_MAX)
        return AuRigPairSet(
            dataset=self,
            identity_index=src // SAMPLES_PER_IDENTITY,
            source_aus=self.aus(src),
            target_aus=target_aus,
            sample_ids=[f"{self.sample_name(s)}->p{seed}-{i}" for i, s in enumerate(src)],
            tag=f"ganimation-p{seed}-n{n_pairs}",
        )

    def make_sweep(self, au: str, steps: int, n_identities: int, seed: int) -> AuRigPairSet:
        """Neutral source -> the same face with ``au`` alone at ``steps`` levels from 0 to 5."""
        if steps < 2 or n_identities < 1:
            raise ValueError(
                f"make_sweep needs steps >= 2 and n_identities >= 1, got {steps}, {n_identities}"
            )
        k = au_index(au)
        u = uniforms(mix(split_code(self.split), self.seed, seed, np.arange(n_identities)), 1, STREAM_PAIRS)
        ids = np.minimum((u[:, 0] * self.n_identities).astype(np.int64), self.n_identities - 1)
        ids = np.repeat(ids, steps)
        levels = torch.linspace(0, AU_MAX, steps).repeat(n_identities)
        target = torch.zeros(len(ids), N_AUS)
        target[:, k] = levels
        names = [
            f"{self.identity_name(i)}-sweep{au.upper()}-{lv:.2f}"
            for i, lv in zip(ids, levels.tolist(), strict=True)
        ]
        return AuRigPairSet(
            dataset=self,
            identity_index=ids,
            source_aus=torch.zeros(len(ids), N_AUS),
            target_aus=target,
            sample_ids=names,
            tag=f"sweep{au.upper()}-k{steps}-p{seed}-i{n_identities}",
        )
