"""Paired LPIPS between the edit and the true target (Zhang et al., CVPR 2018)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import torch

from faceedit_bench.api.metric import Metric

if TYPE_CHECKING:
    from faceedit_bench.api.step import EvalStep


class PairedLPIPS(Metric):
    name: ClassVar[str] = "lpips"
    higher_is_better: ClassVar[bool] = False
    needs_ground_truth: ClassVar[bool] = True
    backend_kind: ClassVar[str | None] = "lpips"
    judge_reads: ClassVar[tuple[tuple[str, str], ...]] = (("lpips", "edited:target"),)
    description: ClassVar[str] = "LPIPS distance of the edit to the true target image"

    def keys(self) -> dict[str, bool]:
        return {"lpips_target": False}

    def update(self, step: EvalStep) -> dict[str, torch.Tensor]:
        if not step.batch.has_ground_truth:
            return {}
        return {"lpips_target": step.lpips("edited", "target").reshape(-1).to(torch.float64)}
