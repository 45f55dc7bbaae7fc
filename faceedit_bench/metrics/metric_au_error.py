"""AU-intensity error of edits, judged by an external AU detector (GANimation-style evaluation).

Per sample, over the AUs the detector reports (non-NaN) and the request defines:
MAE and MSE of detector(edited) against the requested target AUs (0-5 scale), the
per-AU absolute errors, and, with a real target image, MAE against detector(target).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import torch

from faceedit_bench.api.aus import AU_NAMES
from faceedit_bench.api.metric import Metric
from faceedit_bench.metrics.functional.au_error import au_abs_errors, au_mae_mse

if TYPE_CHECKING:
    from faceedit_bench.harness.step import EvalStep


class AUError(Metric):
    name: ClassVar[str] = "au_error"
    higher_is_better: ClassVar[bool] = False
    backend_kind: ClassVar[str | None] = "au_detector"
    description: ClassVar[str] = (
        "error of the detected AU intensities of the edit vs the requested ones (0-5)"
    )

    def keys(self) -> dict[str, bool]:
        keys = {"au_mae": False, "au_mse": False, "au_mae_vs_real": False}
        keys.update({f"au_mae_{au}": False for au in AU_NAMES})
        return keys

    def primary_keys(self) -> list[str]:
        return ["au_mae", "au_mse"]

    def update(self, step: EvalStep) -> dict[str, torch.Tensor]:
        detected = step.aus("edited")
        target = step.batch.target_aus.to(detected.device)
        if detected.shape[1] != len(AU_NAMES):
            raise ValueError(f"au_error: detector returned {detected.shape[1]} AUs, expected {len(AU_NAMES)}")
        mae, mse = au_mae_mse(detected, target)
        out = {"au_mae": mae, "au_mse": mse}
        per_au = au_abs_errors(detected, target)
        out.update({f"au_mae_{au}": per_au[:, i] for i, au in enumerate(AU_NAMES)})
        if step.batch.has_ground_truth:
            out["au_mae_vs_real"] = au_mae_mse(detected, step.aus("target"))[0]
        return out
