"""The generator interface every trained editor shares, and the spec -> module factory."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from faceedit_bench.editors.spec import EditorSpec


@dataclass
class GeneratorOutput:
    """What a generator returns for ``(images in [0, 1], AUs on 0-5)``.

    ``grid``: backward sampling grid ``(N, H, W, 2)`` (None without a motion step);
    ``mask``: attention ``(N, 1, H, W)``, 1 = keep the (warped) input (None without a
    texture step); ``warped``: the image after the motion step.
    """

    images: torch.Tensor
    grid: torch.Tensor | None = None
    mask: torch.Tensor | None = None
    warped: torch.Tensor | None = None


def build_generator(spec: EditorSpec) -> nn.Module:
    """The generator module that ``spec`` describes (weights freshly initialised)."""
    if spec.generator == "two-stage":
        from faceedit_bench.editors.two_stage import TwoStageGenerator

        return TwoStageGenerator(spec)
    if spec.generator == "ganimation":
        from faceedit_bench.baselines.ganimation.generator import GANimationGenerator

        return GANimationGenerator(spec)
    raise ValueError(f"unknown generator {spec.generator!r}; known: two-stage, ganimation")
