"""Keep every training image a run has drawn in memory, so each is made (rendered, decoded) once.

Training draws batches with replacement, so over a run each AU-rig image is rendered
dozens of times; on the 2-core machine rendering was ~40% of a motion pre-training step.
The cache holds exactly what the wrapped dataset returned (float32), so a run is
bit-identical with or without it. Images beyond ``max_bytes`` are not kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from faceedit_bench.api.batch import ImageBatch
from faceedit_bench.api.dataset import FaceDataset, FaceSample


class MemoryCachedDataset(FaceDataset):
    """``dataset`` with ``get_batch`` served from memory after the first time; the rest delegates."""

    def __init__(self, dataset: FaceDataset, max_bytes: int = 4 << 30) -> None:
        self.dataset = dataset
        self.max_bytes = max_bytes
        self._images: torch.Tensor | None = None
        self._aus: torch.Tensor | None = None
        self._ids: list[str | None] = [None] * len(dataset)
        self._have = torch.zeros(len(dataset), dtype=torch.bool)
        self._disabled = False  # the store would exceed max_bytes: serve straight from the dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getattr__(self, name: str) -> Any:  # resolution, same_identity_partners, make_pairs, ...
        return getattr(self.__dict__["dataset"], name)

    def get(self, index: int) -> FaceSample:
        b = self.get_batch([index])
        return FaceSample(b.images[0], b.aus[0], b.identity_ids[0], self.dataset.sample_name(index))

    def same_identity_partners(self, indices: Sequence[int], generator: torch.Generator) -> list[int]:
        return self.dataset.same_identity_partners(indices, generator)

    def cache_key(self) -> str:
        return self.dataset.cache_key()

    def make_pairs(self, n_pairs: int, seed: int, recipe: str = "ganimation"):
        return self.dataset.make_pairs(n_pairs, seed, recipe)

    def get_batch(self, indices: Sequence[int]) -> ImageBatch:
        if self._disabled:
            return self.dataset.get_batch(indices)
        idx = torch.as_tensor(list(indices), dtype=torch.long)
        missing = sorted(set(idx[~self._have[idx]].tolist()))
        if missing:
            got = self.dataset.get_batch(missing)
            if not self._allocate(got):
                self._disabled = True
                return self.dataset.get_batch(idx.tolist())
            at = torch.as_tensor(missing)
            self._images[at], self._aus[at] = got.images.float(), got.aus.float()
            for i, name in zip(missing, got.identity_ids, strict=True):
                self._ids[i] = name
            self._have[at] = True
        return ImageBatch(
            images=self._images[idx].clone(),
            aus=self._aus[idx].clone(),
            identity_ids=[self._ids[i] for i in idx.tolist()],
        )

    def _allocate(self, first: ImageBatch) -> bool:
        """Make the store on first use; False when it would exceed ``max_bytes`` (then nothing is kept)."""
        if self._images is not None:
            return True
        n, shape = len(self.dataset), tuple(first.images.shape[1:])
        if n * first.images[0].numel() * 4 > self.max_bytes:
            return False
        self._images = torch.empty((n, *shape), dtype=torch.float32)
        self._aus = torch.empty((n, first.aus.shape[1]), dtype=torch.float32)
        return True
