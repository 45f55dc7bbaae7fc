"""WGAN-GP critic with an AU-regression head, shared by every trained editor.

Topology of GANimation's discriminator (Pumarola et al., ECCV 2018): stride-2 4x4
convolutions with LeakyReLU(0.01) and no normalisation down to 2x2, then a 3x3
conv giving a patch realism map and a conv over the whole 2x2 map regressing the
17 AUs on the /5 scale. ``channels`` = 64 is the published width.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from faceedit_bench.api.aus import N_AUS


class Critic(nn.Module):
    """``images in [0, 1] -> (realism patches (N, 1, 2, 2), AUs /5 (N, 17))``."""

    def __init__(self, resolution: int, channels: int = 64, max_channels: int = 2048) -> None:
        super().__init__()
        n_layers = int(math.log2(resolution)) - 1
        if 2**n_layers * 2 != resolution or n_layers < 2:
            raise ValueError(f"critic resolution must be a power of two >= 8, got {resolution}")
        layers: list[nn.Module] = []
        ch_in = 3
        for i in range(n_layers):
            ch_out = min(channels * 2**i, max_channels)
            layers += [nn.Conv2d(ch_in, ch_out, 4, stride=2, padding=1), nn.LeakyReLU(0.01, inplace=True)]
            ch_in = ch_out
        self.trunk = nn.Sequential(*layers)
        self.realism = nn.Conv2d(ch_in, 1, 3, padding=1, bias=False)
        self.au_head = nn.Conv2d(ch_in, N_AUS, 2, bias=False)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.trunk(images * 2 - 1)
        return self.realism(h), self.au_head(h).flatten(1)
