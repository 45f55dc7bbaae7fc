"""What a metric sees for one batch and one editor, with per-batch memoised backend calls.

Source- and target-side detections are computed once per batch and shared by every
editor and metric (the "one pass" of the harness); edited-side ones once per editor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import torch
import torch.nn.functional as F

from faceedit_bench.api.backends import AUDetector, FeatureExtractor, IdentityModel, PerceptualDistance
from faceedit_bench.api.batch import PairBatch
from faceedit_bench.api.editor import EditOutput

Which = Literal["source", "edited", "target"]


@dataclass
class BackendSet:
    """The judge backends chosen for one protocol run (None where unavailable)."""

    au_detector: AUDetector | None = None
    identity: IdentityModel | None = None
    fid_features: FeatureExtractor | None = None
    lpips: PerceptualDistance | None = None

    def get(self, kind: str) -> object | None:
        return getattr(self, kind)


@dataclass
class BatchMemo:
    """Per-batch cache shared across editors for source/target-side computations."""

    values: dict[tuple, torch.Tensor] = field(default_factory=dict)


class EvalStep:
    """One (batch, editor output) pair as seen by the metrics."""

    def __init__(
        self,
        batch: PairBatch,
        output: EditOutput,
        editor: str,
        backends: BackendSet,
        shared: BatchMemo,
    ) -> None:
        self.batch = batch
        self.output = output
        self.editor = editor
        self.backends = backends
        self._shared = shared
        self._own: dict[tuple, torch.Tensor] = {}

    def images(self, which: Which) -> torch.Tensor:
        if which == "source":
            return self.batch.source
        if which == "edited":
            return self.output.images
        if self.batch.target_image is None:
            raise ValueError("this protocol has no ground-truth target images")
        return self.batch.target_image

    def _memo(self, which: Which, key: tuple) -> dict[tuple, torch.Tensor]:
        return self._own if which == "edited" else self._shared.values

    def _cached(self, which: Which, key: tuple, compute) -> torch.Tensor:
        store = self._memo(which, key)
        full = (which, *key)
        if full not in store:
            store[full] = compute()
        return store[full]

    def resized(self, which: Which, size: int | None) -> torch.Tensor:
        """``images(which)`` resized (bilinear, antialiased) to ``size`` once per batch."""
        img = self.images(which)
        if size is None or (img.shape[-1] == size and img.shape[-2] == size):
            return img
        return self._cached(
            which,
            ("resize", size),
            lambda: F.interpolate(
                img, size=(size, size), mode="bilinear", antialias=True, align_corners=False
            ).clamp(0, 1),
        )

    def aus(self, which: Which) -> torch.Tensor:
        det = self._need(self.backends.au_detector, "au_detector")
        return self._cached(
            which, ("aus", det.label), lambda: det.detect(self.resized(which, det.input_size))
        )

    def embedding(self, which: Which) -> torch.Tensor:
        ident = self._need(self.backends.identity, "identity")
        return self._cached(
            which, ("id", ident.label), lambda: ident.embed(self.resized(which, ident.input_size))
        )

    def fid_features(self, which: Which) -> torch.Tensor:
        ext = self._need(self.backends.fid_features, "fid_features")
        return self._cached(
            which, ("fid", ext.label), lambda: ext.features(self.resized(which, ext.input_size))
        )

    def lpips(self, a: Which, b: Which) -> torch.Tensor:
        dist = self._need(self.backends.lpips, "lpips")
        return dist.distance(self.resized(a, dist.input_size), self.resized(b, dist.input_size))

    @staticmethod
    def _need(backend, kind: str):
        if backend is None:
            raise RuntimeError(f"no {kind} backend is available for this protocol")
        return backend
