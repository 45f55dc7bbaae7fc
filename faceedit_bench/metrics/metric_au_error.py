"""AU-intensity error of edits, judged by an external AU detector (GANimation-style evaluation).

Per sample, over the AUs the detector reports (non-NaN) and the request defines:
MAE and MSE of detector(edited) against the requested target AUs (0-5 scale), the
per-AU absolute errors, and, with a real target image, MAE against detector(target).

A face the detector (or the protocol's identity judge, where it finds the source's face)
cannot find in an edit is a failure, never dropped: it is scored
as the worst detection the 0-5 scale allows (for each AU the end of the scale
farthest from the request, so an error of ``max(t, 5 - t)``), and counted in
``au_face_missed`` (1 per missed face). Breaking faces can therefore never lower the
error. A real target the detector misses leaves ``au_mae_vs_real`` undefined (NaN):
that pair is not judgeable for any editor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import torch

from faceedit_bench.api.aus import AU_NAMES
from faceedit_bench.api.metric import Metric
from faceedit_bench.metrics.functional.au_error import au_abs_errors, au_mae_mse, no_face, worst_case
from faceedit_bench.metrics.functional.identity import missed_faces

if TYPE_CHECKING:
    from faceedit_bench.api.step import EvalStep


def _identity_missed(step: EvalStep) -> torch.Tensor:
    """``(N,)`` bool: the identity judge finds the source's face but no face in the edit.

    A face one judge cannot find is a missed face for every judge: an AU detector that still
    reads a half-painted face (MediaPipe does) must not score it as an expression.
    """
    if step.backends.identity is None:
        return torch.zeros(len(step.batch), dtype=torch.bool)
    return missed_faces(step.embedding("source"), step.embedding("edited"))


class AUError(Metric):
    name: ClassVar[str] = "au_error"
    higher_is_better: ClassVar[bool] = False
    backend_kind: ClassVar[str | None] = "au_detector"
    description: ClassVar[str] = (
        "error of the detected AU intensities of the edit vs the requested ones (0-5); "
        "a face the detector misses scores the worst value of the scale"
    )
    miss_key: ClassVar[str | None] = "au_face_missed"
    rate_keys: ClassVar[tuple[str, ...]] = ("au_face_missed",)
    judge_reads: ClassVar[tuple[tuple[str, str], ...]] = (
        ("aus", "edited"),
        ("aus", "target"),
        ("embedding", "source"),
        ("embedding", "edited"),
    )

    def keys(self) -> dict[str, bool]:
        keys = {"au_mae": False, "au_mse": False, "au_mae_vs_real": False, "au_face_missed": False}
        keys.update({f"au_mae_{au}": False for au in AU_NAMES})
        return keys

    def primary_keys(self) -> list[str]:
        return ["au_mae", "au_mse"]

    au_call: ClassVar[str] = "aus"  # the judge call (harness.step.JUDGE_CALLS) this metric reads

    def update(self, step: EvalStep) -> dict[str, torch.Tensor]:
        detected = step.judge(self.au_call, "edited")
        target = step.batch.target_aus.to(detected.device)
        if detected.shape[1] != len(AU_NAMES):
            raise ValueError(f"au_error: detector returned {detected.shape[1]} AUs, expected {len(AU_NAMES)}")
        missed = no_face(detected) | _identity_missed(step).to(detected.device)
        measured = getattr(step.backends.get(self.backend_kind), "measured_aus", AU_NAMES)  # type: ignore[arg-type]
        seen = torch.tensor([au in measured for au in AU_NAMES], device=detected.device)
        worst = torch.where(seen, worst_case(target), float("nan")).to(detected.dtype)  # unmeasured stay NaN
        scored = torch.where(missed[:, None], worst, detected)
        mae, mse = au_mae_mse(scored, target)
        out = {"au_mae": mae, "au_mse": mse, "au_face_missed": missed.to(torch.float64)}
        per_au = au_abs_errors(scored, target)
        out.update({f"au_mae_{au}": per_au[:, i] for i, au in enumerate(AU_NAMES)})
        if step.batch.has_ground_truth:
            real = step.judge(self.au_call, "target")
            worst_real = torch.where(torch.isnan(real) | ~seen, real, worst_case(real).to(real.dtype))
            vs_real = torch.where(missed[:, None], worst_real, detected)
            out["au_mae_vs_real"] = au_mae_mse(vs_real, real)[0]
        return out


class SecondJudgeAUError(AUError):
    """:class:`AUError` read by the protocol's second, independent AU judge (``au_detector_2``).

    Its columns carry that judge's label (``au_mae@aurig-gn``); a paired AU claim is
    marked robust only when both judges find it in the same direction.
    """

    name: ClassVar[str] = "au_error_2"
    backend_kind: ClassVar[str | None] = "au_detector_2"
    au_call: ClassVar[str] = "aus2"
    judge_reads: ClassVar[tuple[tuple[str, str], ...]] = (
        ("aus2", "edited"),
        ("aus2", "target"),
        ("embedding", "source"),
        ("embedding", "edited"),
    )
    description: ClassVar[str] = AUError.description + " (the second, independent AU judge)"

    def keys(self) -> dict[str, bool]:
        return {"au_mae": False, "au_mse": False, "au_mae_vs_real": False, "au_face_missed": False}
