"""Images for the HTML report's per-sample browser: the first pairs and each editor's worst.

The evaluation keeps per-sample numbers for every pair but images only for a few.
After it, :func:`write_browser_images` picks the first ``first`` pairs plus the
``worst`` pairs of each editor on one per-sample metric (AU error by default),
re-runs every editor on just those pairs (a pass over tens of pairs, not the
protocol) and writes ``artifacts/browser.npz``: uint8 ``(K, 3, H, W)`` images
``source``, ``target`` (when the data has ground truth), ``edited__<editor>``,
AUs ``source_aus``/``target_aus`` ``(K, 17)``, and ``index``/``sample_id`` per pair.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from faceedit_bench.api.dataset import PairSet
from faceedit_bench.api.editor import Editor
from faceedit_bench.harness.outputs.results import write_npz_atomic

FIRST, WORST = 6, 6
RANK_PREFIXES = ("au_mae@", "au_mse@", "lpips_target@")  # which per-sample metric ranks "worst"


def rank_metric(samples: list[dict[str, Any]]) -> str | None:
    """The per-sample metric id that ranks samples (first of :data:`RANK_PREFIXES` present)."""
    keys = dict.fromkeys(k for row in samples for k in row.get("values", {}))
    for prefix in RANK_PREFIXES:
        for key in keys:
            if key.startswith(prefix):
                return key
    return None


def sort_metric(samples: list[dict[str, Any]], keys: list[str], headline: str | None = None) -> str | None:
    """The per-sample metric the report's browser sorts by first: one whose values vary.

    The run's headline (the joint success), else the ranking error of :func:`rank_metric`,
    else the first of ``keys``; a column equal in every row (e.g. a face-missed flag that is
    0 everywhere) sorts nothing and is passed over for the next that varies.
    """
    preferred = [headline, rank_metric(samples)] if headline else [rank_metric(samples)]
    ordered = list(dict.fromkeys([k for k in preferred if k in keys] + keys))
    for key in ordered:
        values = {v for row in samples if math.isfinite(v := _finite(row.get("values", {}).get(key)))}
        if len(values) > 1:
            return key
    return ordered[0] if ordered else None


def pick_pairs(
    samples: list[dict[str, Any]], metric: str | None, first: int = FIRST, worst: int = WORST
) -> list[int]:
    """Pair indices: ``0..first-1`` then each editor's ``worst`` highest ``metric`` values.

    Rows of one editor in ``samples`` are in pair order (index = position), as the
    harness writes them. Metrics ranked here are lower-is-better errors.
    """
    by_editor: dict[str, list[float]] = {}
    for row in samples:
        value = row.get("values", {}).get(metric) if metric else None
        by_editor.setdefault(row["editor"], []).append(_finite(value))
    n = max((len(v) for v in by_editor.values()), default=0)
    picked = list(range(min(first, n)))
    for values in by_editor.values():
        order = sorted((i for i, v in enumerate(values) if not math.isnan(v)), key=lambda i: -values[i])
        picked += order[:worst]
    return list(dict.fromkeys(picked))


def _finite(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else math.nan


def _uint8(images: torch.Tensor) -> np.ndarray:
    return (images.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()


def browser_arrays(
    pairs: PairSet, editors: dict[str, Editor], indices: Iterable[int], device: str, batch_size: int = 25
) -> dict[str, np.ndarray]:
    """Run every editor on ``indices`` and collect the browser's arrays (see module doc)."""
    indices = list(indices)
    parts: dict[str, list[np.ndarray]] = {}
    ids: list[str] = []
    for start in range(0, len(indices), batch_size):
        chunk = indices[start : start + batch_size]
        batch = pairs.batch(chunk).to(device)
        ids += list(batch.sample_ids)
        parts.setdefault("source", []).append(_uint8(batch.source))
        parts.setdefault("target_aus", []).append(batch.target_aus.float().cpu().numpy())
        if batch.source_aus is not None:
            parts.setdefault("source_aus", []).append(batch.source_aus.float().cpu().numpy())
        if batch.target_image is not None:
            parts.setdefault("target", []).append(_uint8(batch.target_image))
        for name, editor in editors.items():
            with torch.no_grad():
                out = editor.edit_batch(batch)
            parts.setdefault(f"edited__{name}", []).append(_uint8(out.images))
    arrays = {k: np.concatenate(v) for k, v in parts.items()}
    arrays["index"] = np.asarray(indices, np.int64)
    arrays["sample_id"] = np.asarray(ids)
    arrays["editors"] = np.asarray(list(editors))
    return arrays


def write_browser_images(
    pairs: PairSet,
    editors: dict[str, Editor],
    samples: list[dict[str, Any]],
    path: Path,
    device: str,
    batch_size: int = 25,
) -> Path | None:
    """Write ``browser.npz`` for the picked pairs; None (and a note) when an editor fails here."""
    indices = [i for i in pick_pairs(samples, rank_metric(samples)) if i < len(pairs)]
    if not indices:
        return None
    try:
        arrays = browser_arrays(pairs, editors, indices, device, batch_size)
    except Exception as err:  # the report falls back to the qualitative pairs
        print(f"note: browser images not written ({type(err).__name__}: {err})")
        return None
    write_npz_atomic(path, arrays)
    return path
