"""Paired SSIM of the edit against the true target, whole image and inside/outside the texture mask."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import torch

from faceedit_bench.api.metric import Metric
from faceedit_bench.metrics.functional.ssim import ssim_regions

if TYPE_CHECKING:
    from faceedit_bench.api.step import EvalStep


class PairedSSIM(Metric):
    name: ClassVar[str] = "ssim"
    higher_is_better: ClassVar[bool] = True
    needs_ground_truth: ClassVar[bool] = True
    description: ClassVar[str] = (
        "SSIM (Wang et al. 2004) of the edit vs the true target: 11-tap Gaussian window (sigma 1.5), "
        "map averaged over pixels whose window lies inside the image (skimage's convention; "
        "torchmetrics pads the border and differs by up to 0.03 at 64 px)"
    )

    def keys(self) -> dict[str, bool]:
        return {"ssim": True, "ssim_in_mask": True, "ssim_out_mask": True}

    def primary_keys(self) -> list[str]:
        return ["ssim"]

    def update(self, step: EvalStep) -> dict[str, torch.Tensor]:
        if not step.batch.has_ground_truth:
            return {}
        r = ssim_regions(step.images("edited"), step.images("target"), step.batch.texture_mask)
        return {"ssim": r["all"], "ssim_in_mask": r["in"], "ssim_out_mask": r["out"]}
