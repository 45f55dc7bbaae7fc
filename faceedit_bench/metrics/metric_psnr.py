"""Paired PSNR of the edit against the true target, whole image and inside/outside the texture mask."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import torch

from faceedit_bench.api.metric import Metric
from faceedit_bench.metrics.functional.psnr import psnr_regions

if TYPE_CHECKING:
    from faceedit_bench.api.step import EvalStep


class PairedPSNR(Metric):
    name: ClassVar[str] = "psnr"
    higher_is_better: ClassVar[bool] = True
    needs_ground_truth: ClassVar[bool] = True
    description: ClassVar[str] = (
        "PSNR (dB, data range 1) of the edit vs the true target; in/out of the texture mask"
    )

    def keys(self) -> dict[str, bool]:
        return {"psnr": True, "psnr_in_mask": True, "psnr_out_mask": True}

    def primary_keys(self) -> list[str]:
        return ["psnr"]

    def update(self, step: EvalStep) -> dict[str, torch.Tensor]:
        if not step.batch.has_ground_truth:
            return {}
        r = psnr_regions(step.images("edited"), step.images("target"), step.batch.texture_mask)
        return {"psnr": r["all"], "psnr_in_mask": r["in"], "psnr_out_mask": r["out"]}
