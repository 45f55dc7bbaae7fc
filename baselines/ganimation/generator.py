"""GANimation generator (Pumarola et al., ECCV 2018; official code albertpumarola/GANimation).

One encoder-decoder on the image with the target AUs (/5) tiled as channels, then an
attention-mask head and a colour head: ``out = M * x + (1 - M) * C`` (M = 1 keeps the
input). Published size: 64 channels, 2 downsamplings, 6 residual blocks (the spec's
defaults); our shipped CPU checkpoints use a smaller spec, recorded in their JSON.
"""

from __future__ import annotations

import torch
from torch import nn

from faceedit_bench.api.aus import N_AUS
from faceedit_bench.editors.layers import EncoderDecoder, MaskColourHead, au_condition, compose, tile_aus
from faceedit_bench.editors.output import GeneratorOutput
from faceedit_bench.editors.spec import EditorSpec


class GANimationGenerator(nn.Module):
    """``(images in [0, 1], target AUs 0-5) -> GeneratorOutput`` (no grid, no warp)."""

    def __init__(self, spec: EditorSpec) -> None:
        super().__init__()
        self.trunk = EncoderDecoder(
            3 + N_AUS, spec.channels, spec.n_down, spec.res_blocks, spec.stem_norm, upsample=spec.upsample
        )
        self.heads = MaskColourHead(self.trunk.out_channels, spec.mask_bias)

    def forward(self, images: torch.Tensor, target_aus: torch.Tensor) -> GeneratorOutput:
        features = self.trunk(tile_aus(images * 2 - 1, au_condition(target_aus)))
        mask, colour = self.heads(features)
        return GeneratorOutput(images=compose(mask, images, colour), mask=mask)
