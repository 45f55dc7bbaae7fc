"""On-disk cache of real-side distribution features (e.g. Inception pool3 of true targets).

Keyed by a hash of the pair set (dataset, split, renderer/preprocessing), the backend
label and provenance, and the exact pair indices; written atomically with that key
and a content checksum (:mod:`faceedit_bench.cache_file`). A file that fails either
check, or holds non-finite or misshapen features, is rebuilt with a warning.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import torch
from tqdm.auto import tqdm

from faceedit_bench.api.backends import FeatureExtractor
from faceedit_bench.api.dataset import PairSet
from faceedit_bench.cache_file import load_checked, save_checked
from faceedit_bench.paths import cache_dir


def feature_cache_key(pairs: PairSet, indices: Sequence[int], extractor: FeatureExtractor) -> str:
    payload = {
        "pairs": pairs.cache_key(),
        "side": "target" if pairs.has_ground_truth else "source",
        "extractor": extractor.label,
        "provenance": extractor.provenance(),
        "input_size": extractor.input_size,
        "indices": hashlib.sha256(json.dumps(list(indices)).encode()).hexdigest(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:24]


def reference_features(
    pairs: PairSet, indices: Sequence[int], extractor: FeatureExtractor, batch_size: int, progress: bool
) -> torch.Tensor:
    """Features of the real side of ``pairs[indices]``, from cache or computed and cached."""
    root = os.environ.get("FACEEDIT_BENCH_CACHE_FEATURES")  # benchmarks isolate this cache
    folder = Path(root) if root else cache_dir("features")
    folder.mkdir(parents=True, exist_ok=True)
    key = feature_cache_key(pairs, indices, extractor)
    path = folder / f"{key}.pt"
    cached, why = load_checked(path, key)
    if cached is not None:
        problem = _problem(cached.get("features"), len(indices))
        if problem is None:
            return cached["features"]
        why = f"{path}: {problem}"
    if why != "missing":
        print(f"warning: rebuilding feature cache: {why}")
    chunks = []
    starts = range(0, len(indices), batch_size)
    for start in tqdm(
        starts, desc=f"real-side {extractor.label} features", unit="batch", disable=not progress
    ):
        idx = list(indices[start : start + batch_size])
        images = pairs.reference_images(idx)
        size = extractor.input_size
        if size is not None and images.shape[-1] != size:
            images = torch.nn.functional.interpolate(
                images, size=(size, size), mode="bilinear", antialias=True
            ).clamp(0, 1)
        chunks.append(extractor.features(images).double().cpu())
    feats = torch.cat(chunks) if chunks else torch.zeros(0)
    problem = _problem(feats, len(indices))
    if problem is not None:
        raise RuntimeError(f"{extractor.label} features of the real images are unusable: {problem}")
    save_checked(path, key, {"features": feats})
    return feats


def _problem(feats: torch.Tensor | None, n: int) -> str | None:
    """Why ``feats`` cannot be the real-side features of ``n`` images (None when they can)."""
    if feats is None or feats.dim() != 2 or feats.shape[0] != n:
        return f"expected ({n}, D) features, found {None if feats is None else tuple(feats.shape)}"
    if feats.dtype != torch.float64:
        return f"expected float64 features, found {feats.dtype}"
    if not torch.isfinite(feats).all():
        return "features contain NaN or infinite values"
    return None
