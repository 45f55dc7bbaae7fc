"""Planted systems: wrong ways to a headline number, which every protocol must make lose.

Each ignores the requested expression and tries to reach a good score another way: an
invisible white-box attack on the default AU-rig judge, a unit bug (0-255 outputs), a
blurred or grey lower half of the face. ``tests/harness/audit/test_harness_planted_systems.py``
plants them beside ``identity``; ``bench/bench_planted_systems.py`` prints their numbers
at full protocol size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from faceedit_bench.api.editor import Editor, EditOutput
from faceedit_bench.metrics.functional.attack import pgd_toward


class PGDOnTheJudge(Editor):
    """No edit: a white-box +-2/255 attack on the protocol's default AU judge, toward the target."""

    def __init__(self, eps: float = 2 / 255) -> None:
        from faceedit_bench import plugins

        self.judge = plugins.au_detectors.get("aurig-robust")().differentiable()
        self.eps = eps

    def edit(self, images, target_aus):
        with torch.enable_grad():
            return EditOutput(images=pgd_toward(self.judge, images, target_aus, self.eps, steps=40))


class Times255(Editor):
    def edit(self, images, target_aus):
        return EditOutput(images=images * 255.0)


class BlurLowerHalf(Editor):
    """Ignores the AUs; blurs the lower half of the face (where most AU evidence lives)."""

    def edit(self, images, target_aus):
        blurred = F.avg_pool2d(F.pad(images, (3, 3, 3, 3), mode="replicate"), 7, 1)
        out = images.clone()
        half = images.shape[-2] // 2
        out[..., half:, :] = blurred[..., half:, :]
        return EditOutput(images=out)


class GreyLowerHalf(Editor):
    """Ignores the AUs; paints the lower half of the face mid-grey."""

    def edit(self, images, target_aus):
        out = images.clone()
        out[..., images.shape[-2] // 2 :, :] = 0.5
        return EditOutput(images=out)


PLANTED = {
    "pgd-2": PGDOnTheJudge,
    "times-255": Times255,
    "blur-lower-half": BlurLowerHalf,
    "grey-lower-half": GreyLowerHalf,
}
