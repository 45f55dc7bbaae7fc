"""Texture network of the two-stage editor (Athar, Shu, Samaras, FG 2020).

Conditioned on the warped image and the target AUs, it adds what a warp cannot
(mouth interior, wrinkles, shading) with GANimation's attention-mask and colour heads:
``out = M * warped + (1 - M) * C``. Trunk sizes are ours.
"""

from __future__ import annotations

import torch
from torch import nn

from faceedit_bench.api.aus import N_AUS
from faceedit_bench.editors.layers import EncoderDecoder, MaskColourHead, tile_aus


class TextureNet(nn.Module):
    """``(images in [-1, 1], cond /5) -> (mask in (0, 1), colour in [0, 1])``."""

    def __init__(
        self,
        channels: int,
        n_down: int,
        res_blocks: int,
        stem_norm: bool = False,
        mask_bias: float | None = 2.0,
        upsample: str = "transposed",
    ) -> None:
        super().__init__()
        self.trunk = EncoderDecoder(3 + N_AUS, channels, n_down, res_blocks, stem_norm, upsample=upsample)
        self.heads = MaskColourHead(self.trunk.out_channels, mask_bias)

    def forward(self, images: torch.Tensor, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.heads(self.trunk(tile_aus(images, cond)))
