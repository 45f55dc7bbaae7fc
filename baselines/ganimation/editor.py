"""The registered GANimation baseline editor (Pumarola et al., ECCV 2018).

Trained by the shared trainer (``faceedit_bench.training``) with GANimation's
published defaults (``faceedit_bench.training.config.TrainConfig`` defaults).
"""

from __future__ import annotations

from faceedit_bench.editors import spec as specs
from faceedit_bench.editors.trained import TrainedEditor


class GANimationEditor(TrainedEditor):
    """Texture-only: attention mask + colour over the input image."""

    name = "ganimation"
    group = "baseline"
    spec = specs.GANIMATION
