"""Identity preservation: cosine similarity of face embeddings of source and edit.

A face the identity model cannot find in an edit (NaN embedding) while it found the
source is a failure scored as the worst value of each scale (cosine -1, no match)
and counted in ``id_face_missed``; a source without a face leaves the pair undefined
(NaN) for every editor alike. ``id_verify`` thresholds the cosine at the identity
model's threshold; results.json's backend provenance names its ``threshold_rule``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import torch

from faceedit_bench.api.metric import Metric
from faceedit_bench.metrics.functional.identity import cosine_rows, missed_faces, verify

if TYPE_CHECKING:
    from faceedit_bench.api.step import EvalStep


class IdentitySimilarity(Metric):
    name: ClassVar[str] = "identity"
    higher_is_better: ClassVar[bool] = True
    backend_kind: ClassVar[str | None] = "identity"
    description: ClassVar[str] = (
        "cosine similarity of identity embeddings (source vs edit) and match rate; "
        "an edit without a face scores -1 and no match; verify = cos >= the identity model's threshold, "
        "chosen by the rule its provenance names (threshold_rule; aurig-ref: the midpoint of the gap between "
        "the highest impostor and the lowest genuine cosine on validation identities, else the EER point)"
    )
    miss_key: ClassVar[str | None] = "id_face_missed"
    rate_keys: ClassVar[tuple[str, ...]] = ("id_verify", "id_face_missed")
    judge_reads: ClassVar[tuple[tuple[str, str], ...]] = (("embedding", "source"), ("embedding", "edited"))

    def keys(self) -> dict[str, bool]:
        return {"id_cos": True, "id_verify": True, "id_face_missed": False}

    def primary_keys(self) -> list[str]:
        return ["id_cos", "id_verify"]

    def update(self, step: EvalStep) -> dict[str, torch.Tensor]:
        model = step.backends.identity
        if model is None:
            raise RuntimeError("identity: no identity backend is available for this protocol")
        source, edited = step.embedding("source"), step.embedding("edited")
        missed = missed_faces(source, edited)
        cos = cosine_rows(source, edited).cpu()
        cos = torch.where(missed, torch.full_like(cos, -1.0), cos)
        match = verify(cos, float(model.threshold))
        return {"id_cos": cos, "id_verify": match, "id_face_missed": missed.to(torch.float64)}
