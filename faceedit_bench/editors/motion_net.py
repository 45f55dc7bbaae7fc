"""Motion network of the two-stage editor (Athar, Shu, Samaras, FG 2020).

Conditioned on the image and the target AUs (/5, tiled as channels as in
GANimation); predicts raw grid increments that :func:`increments_to_grid` integrates
into a fold-free sampling grid (the Deforming Autoencoders warper). Ours, not the
paper's (its layer sizes are not available): the trunk sizes, and predicting the
increments at 1/2**``flow_up_skip`` resolution then upsampling them bilinearly, which
keeps them non-negative (a convex combination) and makes the warp smooth by
construction; facial motion driven by AUs is smooth.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from faceedit_bench.api.aus import N_AUS
from faceedit_bench.editors.layers import EncoderDecoder, tile_aus
from faceedit_bench.editors.warp import increments_to_grid


class MotionNet(nn.Module):
    """``(images in [-1, 1], cond /5) -> grid (N, H, W, 2)``; starts at the identity warp."""

    def __init__(
        self,
        channels: int,
        n_down: int,
        res_blocks: int,
        stem_norm: bool = False,
        flow_up_skip: int = 0,
        upsample: str = "transposed",
    ) -> None:
        super().__init__()
        self.trunk = EncoderDecoder(
            3 + N_AUS, channels, n_down, res_blocks, stem_norm, n_up=n_down - flow_up_skip, upsample=upsample
        )
        self.head = nn.Conv2d(self.trunk.out_channels, 2, 3, padding=1)
        nn.init.zeros_(self.head.weight)  # zero increments' logits = identity grid at init
        nn.init.zeros_(self.head.bias)

    def forward(self, images: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        raw = self.head(self.trunk(tile_aus(images, cond))).float()
        if raw.shape[-2:] != images.shape[-2:]:
            raw = F.interpolate(raw, size=images.shape[-2:], mode="bilinear", align_corners=False)
        return increments_to_grid(raw)
