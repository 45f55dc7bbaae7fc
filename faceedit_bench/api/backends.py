"""Contracts for the judges: AU detectors, identity models, feature extractors, LPIPS.

Each backend has a ``label`` that names it in every result (``au_mae@<label>``) and a
classmethod ``availability()`` saying whether it can run on this machine and, if
not, which file to place where.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import torch

from faceedit_bench.api.aus import AU_NAMES


@dataclass(frozen=True)
class Availability:
    usable: bool
    reason: str = ""  # why not, or where its weights come from


class Backend:
    """Common metadata of every judge backend."""

    label: ClassVar[str] = "backend"  # goes into metric keys: keep it short and stable
    approximate: ClassVar[bool] = False  # e.g. blendshape-mapped AUs
    input_size: ClassVar[int | None] = None  # the square size it resizes to (None: any)
    # a slow judge that uses one CPU core: the pass may run it in a worker process beside the
    # others (harness.judge_worker); the class must build with no arguments, like every backend
    worker_process: ClassVar[bool] = False
    # a multi-threaded torch judge whose outputs may change in the last float bits with the
    # thread count (distribution features, perceptual distances; never AU or identity judges):
    # while a worker process runs beside the pass, the pass runs it on one thread fewer
    lean_threads: ClassVar[bool] = False
    # a judge that joins the worker process when one is started for the slow judges, so the
    # two processes carry similar work (perceptual distances: the pass keeps Inception)
    joins_worker: ClassVar[bool] = False

    @classmethod
    def availability(cls) -> Availability:
        return Availability(True, "built in")

    def to(self, device: torch.device | str) -> Backend:
        return self

    def provenance(self) -> dict[str, object]:
        """Recorded in results: weights file, hash, package versions."""
        return {"label": self.label, "approximate": self.approximate}


class AUDetector(Backend):
    """``detect(images) -> (N, 17)`` intensities 0-5; NaN for AUs it cannot see.

    A row that is all NaN means no face was found in that image. ``measured_aus``
    declares the AUs it measures: the others are NaN in every row (never 0) and
    results record them by name (``provenance``).
    """

    measured_aus: ClassVar[tuple[str, ...]] = AU_NAMES

    def provenance(self) -> dict[str, object]:
        return {
            **super().provenance(),
            "measured_aus": list(self.measured_aus),
            "unmeasured_aus": [au for au in AU_NAMES if au not in self.measured_aus],
        }

    @abstractmethod
    def detect(self, images: torch.Tensor) -> torch.Tensor: ...

    def differentiable(self) -> Callable[[torch.Tensor], torch.Tensor] | None:
        """A torch function images in [0, 1] -> ``(N, 17)`` AUs with gradients, or None.

        Where given, it reads what :meth:`detect` reads (same resize, same network), so a
        white-box attack on it is an attack on this judge (:mod:`faceedit_bench.harness.audit.judge_audit`).
        """
        return None


class IdentityModel(Backend):
    """``embed(images) -> (N, D)`` L2-normalised; a NaN row means no face found."""

    threshold: ClassVar[float] = 0.5  # cosine similarity above which two faces match
    threshold_rule: ClassVar[str] = "a fixed default (0.5), not chosen for this model"

    def provenance(self) -> dict[str, object]:
        return {**super().provenance(), "threshold": self.threshold, "threshold_rule": self.threshold_rule}

    @abstractmethod
    def embed(self, images: torch.Tensor) -> torch.Tensor: ...


class FeatureExtractor(Backend):
    """``features(images) -> (N, D)`` float64 features for distribution metrics."""

    @abstractmethod
    def features(self, images: torch.Tensor) -> torch.Tensor: ...


class PerceptualDistance(Backend):
    """``distance(a, b) -> (N,)`` perceptual distance between image batches."""

    @abstractmethod
    def distance(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor: ...
