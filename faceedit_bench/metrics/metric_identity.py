"""Identity preservation: cosine similarity of face embeddings of source and edit."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import torch

from faceedit_bench.api.metric import Metric
from faceedit_bench.metrics.functional.identity import cosine_rows, verify

if TYPE_CHECKING:
    from faceedit_bench.harness.step import EvalStep


class IdentitySimilarity(Metric):
    name: ClassVar[str] = "identity"
    higher_is_better: ClassVar[bool] = True
    backend_kind: ClassVar[str | None] = "identity"
    description: ClassVar[str] = "cosine similarity of identity embeddings (source vs edit) and match rate"

    def keys(self) -> dict[str, bool]:
        return {"id_cos": True, "id_verify": True}

    def update(self, step: EvalStep) -> dict[str, torch.Tensor]:
        model = step.backends.identity
        if model is None:
            raise RuntimeError("identity: no identity backend is available for this protocol")
        cos = cosine_rows(step.embedding("source"), step.embedding("edited"))
        return {"id_cos": cos, "id_verify": verify(cos, float(model.threshold))}
