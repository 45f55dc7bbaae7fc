"""The spec -> generator module factory every trained editor and training run goes through."""

from __future__ import annotations

from torch import nn

from faceedit_bench.baselines.ganimation.generator import GANimationGenerator
from faceedit_bench.editors.output import GeneratorOutput
from faceedit_bench.editors.spec import EditorSpec
from faceedit_bench.editors.two_stage import TwoStageGenerator

__all__ = ["GeneratorOutput", "build_generator"]

GENERATORS: dict[str, type[nn.Module]] = {"two-stage": TwoStageGenerator, "ganimation": GANimationGenerator}


def build_generator(spec: EditorSpec) -> nn.Module:
    """The generator module that ``spec`` describes (weights freshly initialised)."""
    try:
        return GENERATORS[spec.generator](spec)
    except KeyError:
        raise ValueError(f"unknown generator {spec.generator!r}; known: {', '.join(GENERATORS)}") from None
