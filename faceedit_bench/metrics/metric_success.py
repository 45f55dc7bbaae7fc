"""Joint per-sample edit success, the headline of every protocol (see :mod:`.functional.success`).

Per sample 1 when the requested expression is reached under every AU judge of the
protocol (the second, independent one too where there is one), the identity judge
verifies the person, every judge finds the face, and the sample is no counted failure;
else 0. Rates get cluster-bootstrap intervals and paired tests like every other metric.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import torch

from faceedit_bench.api.metric import Metric
from faceedit_bench.metrics.functional.au_error import no_face
from faceedit_bench.metrics.functional.identity import cosine_rows
from faceedit_bench.metrics.functional.success import REACHED_SHARE, expression_reached, joint_success

if TYPE_CHECKING:
    from faceedit_bench.api.step import EvalStep

_AU_CALLS = (("aus", "au_detector"), ("aus2", "au_detector_2"))


class EditSuccess(Metric):
    name: ClassVar[str] = "edit_success"
    higher_is_better: ClassVar[bool] = True
    backend_kind: ClassVar[str | None] = "au_detector"
    also_needs: ClassVar[tuple[str, ...]] = ("identity",)
    rate_keys: ClassVar[tuple[str, ...]] = ("success", "expression_reached")
    judge_reads: ClassVar[tuple[tuple[str, str], ...]] = (
        ("aus", "edited"),
        ("aus", "source"),
        ("aus", "target"),
        ("aus2", "edited"),
        ("aus2", "source"),
        ("aus2", "target"),
        ("embedding", "source"),
        ("embedding", "edited"),
    )
    description: ClassVar[str] = (
        f"share of samples where every AU judge reads at least {REACHED_SHARE:.0%} of the source-to-truth AU "
        "gap closed, the identity judge verifies the person, every judge finds the face and no failure occurred"
    )

    def keys(self) -> dict[str, bool]:
        return {"success": True, "expression_reached": True}

    def primary_keys(self) -> list[str]:
        return ["success"]

    def update(self, step: EvalStep) -> dict[str, torch.Tensor]:
        reached, found = [], []
        for call, kind in _AU_CALLS:
            if step.backends.get(kind) is None:
                continue
            edited = step.judge(call, "edited").cpu()
            truth = step.judge(call, "target").cpu() if step.batch.has_ground_truth else None
            target = step.batch.target_aus.cpu()
            reached.append(expression_reached(edited, step.judge(call, "source").cpu(), target, truth))
            found.append(~no_face(edited))
        identity = step.backends.identity
        source, edited = step.embedding("source").cpu(), step.embedding("edited").cpu()
        found.append(~torch.isnan(edited).any(dim=1))
        verified = cosine_rows(source, edited).cpu() >= float(identity.threshold)  # type: ignore[union-attr]
        ok = torch.ones(len(step.batch), dtype=torch.bool)
        if step.failed is not None:
            ok = ~step.failed.cpu()
        expression = joint_success(*reached)
        return {
            "success": joint_success(expression.bool(), verified, *found, ok),
            "expression_reached": expression,
        }
