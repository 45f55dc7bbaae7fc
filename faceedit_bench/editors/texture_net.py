"""Texture network of the two-stage editor (Athar, Shu, Samaras, FG 2020).

Conditioned on the warped image and the target AUs, it adds what a warp cannot
(mouth interior, wrinkles, shading) with GANimation's attention-mask and colour heads:
``out = M * warped + (1 - M) * C``. Trunk sizes are ours.

``texture="shading"`` (ours, not the paper's): ``C = clamp(warped + s, 0, 1)`` with one
grey level ``s`` in (-1, 1) per pixel, so the texture step can brighten or darken
(teeth, furrows, shading) but not change hue. With full colour the step painted
red/green/blue marks that the critic's AU head read as AUs (README, "Training recipes").
"""

from __future__ import annotations

import torch
from torch import nn

from faceedit_bench.api.aus import N_AUS
from faceedit_bench.editors.layers import EncoderDecoder, MaskColourHead, tile_aus

TEXTURES = ("colour", "shading")


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
        texture: str = "colour",
    ) -> None:
        super().__init__()
        if texture not in TEXTURES:
            raise ValueError(f"unknown texture {texture!r}; known: {', '.join(TEXTURES)}")
        self.shading = texture == "shading"
        self.trunk = EncoderDecoder(3 + N_AUS, channels, n_down, res_blocks, stem_norm, upsample=upsample)
        self.heads = MaskColourHead(
            self.trunk.out_channels, mask_bias, colour_channels=1 if self.shading else 3
        )

    def forward(self, images: torch.Tensor, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mask, colour = self.heads(self.trunk(tile_aus(images, cond)))
        if self.shading:  # colour in [0, 1] holds s = 2 * colour - 1, added to every channel
            colour = ((images + 1) / 2 + (2 * colour - 1)).clamp(0, 1)
        return mask, colour
