"""End-point error (pixels) of an editor's backward flow against the true flow."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import torch

from faceedit_bench.api.metric import Metric
from faceedit_bench.metrics.functional.flow import epe_regions

if TYPE_CHECKING:
    from faceedit_bench.api.step import EvalStep


class FlowEPE(Metric):
    name: ClassVar[str] = "flow_epe"
    higher_is_better: ClassVar[bool] = False
    needs_ground_truth: ClassVar[bool] = True
    description: ClassVar[str] = "end-point error in pixels of the predicted vs true backward flow"

    def keys(self) -> dict[str, bool]:
        return {"flow_epe": False, "flow_epe_in_mask": False, "flow_epe_out_mask": False}

    def primary_keys(self) -> list[str]:
        return ["flow_epe"]

    def update(self, step: EvalStep) -> dict[str, torch.Tensor]:
        pred, true = step.output.flow, step.batch.flow
        if true is None:
            return {}
        if pred is None:  # an editor without a motion step: not measurable
            nan = torch.full((len(step.batch),), float("nan"), dtype=torch.float64)
            return {k: nan.clone() for k in self.keys()}
        r = epe_regions(pred, true.to(pred.device), step.batch.texture_mask)
        return {"flow_epe": r["all"], "flow_epe_in_mask": r["in"], "flow_epe_out_mask": r["out"]}
