"""Motion network of the two-stage editor (Athar, Shu, Samaras, FG 2020).

Conditioned on the image and the target AUs (/5, tiled as channels as in
GANimation); predicts a sampling grid in one of the parametrisations of
:mod:`faceedit_bench.editors.warp`: the paper's (the Deforming Autoencoders warper,
``increments`` integrated into a fold-free grid) or ours (``displacement``, bounded).
Ours, not the paper's (its layer sizes are not available): the trunk sizes, and
predicting the raw field at 1/2**``flow_up_skip`` resolution then upsampling it
bilinearly, which keeps increments non-negative (a convex combination) and makes the
warp smooth by construction; facial motion driven by AUs is smooth.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from faceedit_bench.api.aus import N_AUS
from faceedit_bench.editors.layers import EncoderDecoder, tile_aus
from faceedit_bench.editors.warp import FLOW_PARAMETRISATIONS


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
        flow: str = "increments",
    ) -> None:
        super().__init__()
        if flow not in FLOW_PARAMETRISATIONS:
            raise ValueError(
                f"unknown flow parametrisation {flow!r}; known: {', '.join(FLOW_PARAMETRISATIONS)}"
            )
        self.to_grid = FLOW_PARAMETRISATIONS[flow]
        self.trunk = EncoderDecoder(
            3 + N_AUS, channels, n_down, res_blocks, stem_norm, n_up=n_down - flow_up_skip, upsample=upsample
        )
        self.head = nn.Conv2d(self.trunk.out_channels, 2, 3, padding=1)
        nn.init.zeros_(self.head.weight)  # zero logits = identity grid at init (both parametrisations)
        nn.init.zeros_(self.head.bias)

    def forward(self, images: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        raw = self.head(self.trunk(tile_aus(images, cond))).float()
        if raw.shape[-2:] != images.shape[-2:]:
            raw = F.interpolate(raw, size=images.shape[-2:], mode="bilinear", align_corners=False)
        return self.to_grid(raw)
