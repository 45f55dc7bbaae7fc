"""The metric contract: update/compute accumulators with metadata.

Per-sample metrics return one value per sample per key from ``update`` (NaN =
not measurable for that sample, counted as skipped); the harness keeps them for
bootstrap intervals and ``samples.jsonl``, so merging shards is concatenation.
Distribution metrics (FID, KID) keep mergeable states instead and compute once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import torch

if TYPE_CHECKING:
    from faceedit_bench.api.step import EvalStep


@dataclass
class MetricValue:
    """One reported number with its provenance."""

    value: float
    backend: str
    higher_is_better: bool
    n: int
    ci95: tuple[float, float] | None = None
    skipped: int = 0
    extra: dict[str, object] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "value": self.value,
            "ci95": list(self.ci95) if self.ci95 is not None else None,
            "n": self.n,
            "backend": self.backend,
            "higher_is_better": self.higher_is_better,
            "skipped": self.skipped,
        }
        out.update(self.extra)
        return out


class Metric(ABC):
    """A metric over edit steps. Subclasses set the class metadata below."""

    name: ClassVar[str] = "metric"
    higher_is_better: ClassVar[bool] = False
    needs_ground_truth: ClassVar[bool] = False
    per_sample: ClassVar[bool] = True
    backend_kind: ClassVar[str | None] = None  # "au_detector", "identity", "fid_features", "lpips"
    miss_key: ClassVar[str | None] = None  # per-sample 0/1 key: the judge found no face (scored worst)
    rate_keys: ClassVar[tuple[str, ...]] = ()  # keys whose per-sample values are 0/1 (a rate)
    # judge outputs it reads, (call, side): call a key of harness.step.JUDGE_CALLS, side source,
    # target, edited or real (target with ground truth, else source); real sides are cached
    judge_reads: ClassVar[tuple[tuple[str, str], ...]] = ()
    description: ClassVar[str] = ""

    def __init__(self, backend_label: str = "exact") -> None:
        self.backend_label = backend_label

    def keys(self) -> dict[str, bool]:
        """Reported sub-metric names -> higher_is_better (default: just ``name``)."""
        return {self.name: self.higher_is_better}

    def primary_keys(self) -> list[str]:
        """Keys shown in the summary table (others go to detailed tables)."""
        return list(self.keys())

    @abstractmethod
    def update(self, step: EvalStep) -> dict[str, torch.Tensor]:
        """Per-sample values ``{key: (N,)}``; distribution metrics return ``{}``."""

    # Distribution-level metrics override these three.
    def state(self) -> dict[str, torch.Tensor]:
        return {}

    def merge(self, states: list[dict[str, torch.Tensor]]) -> None:
        return None

    def compute(self) -> dict[str, float]:
        return {}
