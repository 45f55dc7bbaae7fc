"""AU-rig pair sets: fixed edit requests whose ground truth is rendered on demand."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import torch

from faceedit_bench.api.batch import PairBatch
from faceedit_bench.api.dataset import PairSet
from faceedit_bench.aurig.render import render, render_pair
from faceedit_bench.aurig.threads import single_thread


class RigIdentities(Protocol):
    """What a pair set needs from its dataset (:class:`~faceedit_bench.aurig.dataset.AuRigDataset`)."""

    resolution: int

    def identities(self, identity_indices: Sequence[int]) -> Any: ...  # an aurig Identity batch

    def identity_name(self, identity_index: int) -> str: ...

    def cache_key(self) -> str: ...


class AuRigPairSet(PairSet):
    """Pairs (identity, source AUs, target AUs); ``batch`` renders source, target, flow, mask."""

    has_ground_truth = True

    def __init__(
        self,
        dataset: RigIdentities,
        identity_index: np.ndarray,
        source_aus: torch.Tensor,
        target_aus: torch.Tensor,
        sample_ids: list[str],
        tag: str,
    ) -> None:
        n = len(sample_ids)
        if not (len(identity_index) == source_aus.shape[0] == target_aus.shape[0] == n):
            raise ValueError(
                "AuRigPairSet: identity_index, source_aus, target_aus and sample_ids differ in length"
            )
        self.dataset = dataset
        self.identity_index = np.asarray(identity_index, dtype=np.int64)
        self.source_aus = source_aus.float()
        self.target_aus = target_aus.float()
        self.sample_ids = list(sample_ids)
        self.tag = tag

    def __len__(self) -> int:
        return len(self.sample_ids)

    def head(self, n: int) -> AuRigPairSet:
        """The first ``n`` pairs."""
        return AuRigPairSet(
            self.dataset,
            self.identity_index[:n],
            self.source_aus[:n],
            self.target_aus[:n],
            self.sample_ids[:n],
            f"{self.tag}-h{n}",
        )

    def batch(self, indices: Sequence[int]) -> PairBatch:
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= len(self)):
            raise IndexError(f"AU-rig pair index out of range [0, {len(self)})")
        ids = self.identity_index[idx]
        t = torch.from_numpy(idx)
        with single_thread():
            pair = render_pair(
                self.dataset.identities(ids), self.source_aus[t], self.target_aus[t], self.dataset.resolution
            )
        return PairBatch(
            source=pair.source.images,
            target_aus=self.target_aus[t].clone(),
            sample_ids=[self.sample_ids[i] for i in idx],
            source_aus=self.source_aus[t].clone(),
            target_image=pair.target.images,
            flow=pair.flow,
            texture_mask=pair.texture_mask,
            identity_ids=[self.dataset.identity_name(i) for i in ids],
        )

    def true_edits(self, indices: Sequence[int], target_aus: torch.Tensor) -> torch.Tensor:
        """Each pair's identity rendered with the given AUs (the exact answer to that edit)."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if len(idx) != target_aus.shape[0]:
            raise ValueError(f"true_edits: {len(idx)} indices but {target_aus.shape[0]} AU rows")
        with single_thread():
            rendered = render(
                self.dataset.identities(self.identity_index[idx]),
                target_aus.float().cpu(),
                self.dataset.resolution,
            )
        return rendered.images

    def cache_key(self) -> str:
        return f"{self.dataset.cache_key()}-{self.tag}"
