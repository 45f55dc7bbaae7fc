"""Kernel Inception Distance between edits and real images (Bińkowski et al., ICLR 2018).

State: the float64 features of each side (merge = concatenation). The harness
puts rows back in pair order (:meth:`KID.align`) before the subsets are drawn, so
one process and any sharding give exactly the same number, and the number equals
torch-fidelity's on the same features in the same (pair) order. Defaults are
torch-fidelity's (degree 3, gamma 1/D, coef0 1, 100 subsets, seed 2020); the subset
size is 1000 or half the sample count when that is smaller, so subsets differ at
every size and ``kid_std``, the standard deviation over subsets, is informative
(at 200 pairs torch-fidelity's own default, 1000, would refuse the set).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import torch

from faceedit_bench.api.metric import Metric
from faceedit_bench.metrics._sides import check_state, real_side
from faceedit_bench.metrics.functional.kid import KIDConfig, kid

if TYPE_CHECKING:
    from faceedit_bench.api.step import EvalStep


class KID(Metric):
    name: ClassVar[str] = "kid"
    higher_is_better: ClassVar[bool] = False
    per_sample: ClassVar[bool] = False
    backend_kind: ClassVar[str | None] = "fid_features"
    judge_reads: ClassVar[tuple[tuple[str, str], ...]] = (
        ("fid_features", "edited"),
        ("fid_features", "real"),
    )
    description: ClassVar[str] = "kernel MMD² of edit vs real features (polynomial kernel, unbiased)"
    config: ClassVar[KIDConfig] = KIDConfig()

    def __init__(self, backend_label: str = "exact") -> None:
        super().__init__(backend_label)
        self._feats: dict[str, list[torch.Tensor]] = {"edited": [], "real": []}

    def keys(self) -> dict[str, bool]:
        return {"kid": False, "kid_std": False}

    def primary_keys(self) -> list[str]:
        return ["kid"]

    def update(self, step: EvalStep) -> dict[str, torch.Tensor]:
        for side, which in (("edited", "edited"), ("real", real_side(step))):
            f = step.fid_features(which)
            if f.dim() != 2:
                raise ValueError(f"kid: expected (N, D) features, got {tuple(f.shape)}")
            self._feats[side].append(f.detach().to(device="cpu", dtype=torch.float64))
        return {}

    def _side(self, side: str) -> torch.Tensor:
        parts = self._feats[side]
        if len(parts) > 1:
            self._feats[side] = parts = [torch.cat(parts)]
        return parts[0] if parts else torch.zeros(0, 0, dtype=torch.float64)

    def state(self) -> dict[str, torch.Tensor]:
        return {"edited_features": self._side("edited"), "real_features": self._side("real")}

    def merge(self, states: list[dict[str, torch.Tensor]]) -> None:
        """Append other shards' (or a resumed run's) features to this one's."""
        for st in states:
            if not st:
                continue
            check_state(self.name, st, ("edited_features", "real_features"))
            for side in ("edited", "real"):
                f = st[f"{side}_features"].to(torch.float64)
                if f.numel():
                    self._feats[side].append(f)

    def align(self, perm: np.ndarray) -> bool:
        """Put rows in pair order (``perm``: argsort of the pair index of each row); False if it cannot."""
        x, y = self._side("edited"), self._side("real")
        if len(x) != len(perm) or len(y) != len(perm):
            return False
        index = torch.as_tensor(np.asarray(perm, dtype=np.int64))
        self._feats = {"edited": [x[index]], "real": [y[index]]}
        return True

    def features(self) -> tuple[np.ndarray, np.ndarray]:
        """(edited, real) features as held (pair order after :meth:`align`)."""
        return self._side("edited").numpy(), self._side("real").numpy()

    def subset_size(self, n: int) -> int:
        return min(self.config.subset_size, n // 2) if n >= 4 else n

    def compute(self) -> dict[str, float]:
        """KID mean and subset std, or NaN when a side has fewer than 2 samples."""
        x, y = self.features()
        size = self.subset_size(min(len(x), len(y)))
        if size < 2:
            return {"kid": float("nan"), "kid_std": float("nan")}
        mean, std = kid(x, y, replace(self.config, subset_size=size))
        return {"kid": mean, "kid_std": std}
