"""The registered two-stage editors: one base spec and its ablations (see ``spec.py``).

Each class differs from :class:`TwoStageEditor` only by its name and a small spec
change; all train with the same trainer (``faceedit_bench.training``).
"""

from __future__ import annotations

from faceedit_bench.editors import spec as specs
from faceedit_bench.editors.trained import TrainedEditor


class TwoStageEditor(TrainedEditor):
    """Motion (flow + warp) then texture (Athar, Shu, Samaras, FG 2020)."""

    name = "two-stage"
    group = "two-stage"
    spec = specs.TWO_STAGE


class WarpOnlyEditor(TwoStageEditor):
    """Ablation: the motion step alone (no texture step, no mask losses)."""

    name = "warp-only"
    spec = specs.WARP_ONLY


class TextureOnlyEditor(TwoStageEditor):
    """Ablation: the texture step alone, i.e. the baseline's structure in our config."""

    name = "texture-only"
    spec = specs.TEXTURE_ONLY


class TwoStageNoTVEditor(TwoStageEditor):
    """Ablation: no total-variation loss on the flow."""

    name = "two-stage-no-tv"
    spec = specs.TWO_STAGE_NO_TV


class TwoStageNoCycleEditor(TwoStageEditor):
    """Ablation: no cycle loss."""

    name = "two-stage-no-cycle"
    spec = specs.TWO_STAGE_NO_CYCLE


class TwoStageNoMaskEditor(TwoStageEditor):
    """Ablation: no attention-mask losses."""

    name = "two-stage-no-mask"
    spec = specs.TWO_STAGE_NO_MASK
