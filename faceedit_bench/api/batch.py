"""The sample type every dataset and protocol yields: a batch of edit requests."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

import torch


@dataclass
class PairBatch:
    """A batch of edit requests, optionally with ground truth.

    Images are float32 ``(N, 3, H, W)`` in ``[0, 1]``; AUs are ``(N, 17)`` on the 0-5
    scale (NaN where unknown). ``flow`` is the true *backward* flow as a
    ``grid_sample`` grid ``(N, H, W, 2)`` in ``[-1, 1]`` (align_corners=False):
    target pixel -> source location. ``texture_mask`` is ``(N, 1, H, W)`` in {0, 1}:
    pixels no warp of the source explains. ``reference_image``: one real image per row of a
    held-out reference set that FID/KID compare edits against instead of the targets or
    sources (see :meth:`~faceedit_bench.api.dataset.PairSet.real_side`); never the source.
    """

    source: torch.Tensor
    target_aus: torch.Tensor
    sample_ids: list[str]
    source_aus: torch.Tensor | None = None
    target_image: torch.Tensor | None = None
    flow: torch.Tensor | None = None
    texture_mask: torch.Tensor | None = None
    identity_ids: list[str] = field(default_factory=list)
    reference_image: torch.Tensor | None = None

    def __len__(self) -> int:
        return int(self.source.shape[0])

    @property
    def has_ground_truth(self) -> bool:
        return self.target_image is not None

    def to(self, device: torch.device | str) -> PairBatch:
        moved = {
            f.name: getattr(self, f.name).to(device)
            for f in fields(self)
            if isinstance(getattr(self, f.name), torch.Tensor)
        }
        return replace(self, **moved)


@dataclass
class ImageBatch:
    """Training samples: images with their AU annotation and identity label."""

    images: torch.Tensor  # (N, 3, H, W) in [0, 1]
    aus: torch.Tensor  # (N, 17), 0-5
    identity_ids: list[str] = field(default_factory=list)
