"""The two-stage generator (Athar, Shu, Samaras, FG 2020): motion step, then texture step.

Either step can be switched off by the spec (the warp-only and texture-only
ablations); with both off the generator would be the identity, which is refused.
"""

from __future__ import annotations

import torch
from torch import nn

from faceedit_bench.editors.layers import au_condition, compose
from faceedit_bench.editors.motion_net import MotionNet
from faceedit_bench.editors.output import GeneratorOutput
from faceedit_bench.editors.spec import EditorSpec
from faceedit_bench.editors.texture_net import TextureNet
from faceedit_bench.editors.warp import apply_warp


class TwoStageGenerator(nn.Module):
    """``(images in [0, 1], target AUs 0-5) -> GeneratorOutput``."""

    def __init__(self, spec: EditorSpec) -> None:
        super().__init__()
        if not (spec.use_motion or spec.use_texture):
            raise ValueError("a two-stage generator needs the motion step, the texture step or both")
        self.motion = (
            MotionNet(
                spec.channels,
                spec.n_down,
                spec.motion_res_blocks,
                spec.stem_norm,
                spec.flow_up_skip,
                spec.upsample,
                spec.flow,
            )
            if spec.use_motion
            else None
        )
        self.texture = (
            TextureNet(
                spec.channels,
                spec.n_down,
                spec.res_blocks,
                spec.stem_norm,
                spec.mask_bias,
                spec.upsample,
                spec.texture,
            )
            if spec.use_texture
            else None
        )

    def forward(self, images: torch.Tensor, target_aus: torch.Tensor) -> GeneratorOutput:
        cond = au_condition(target_aus)
        grid = warped = mask = None
        current = images
        if self.motion is not None:
            grid = self.motion(images * 2 - 1, cond)
            warped = apply_warp(images, grid)
            current = warped
        if self.texture is not None:
            mask, colour = self.texture(current * 2 - 1, cond)
            current = compose(mask, current, colour)
        return GeneratorOutput(images=current, grid=grid, mask=mask, warped=warped)
