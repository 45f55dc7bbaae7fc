"""Paired, cluster and seed bootstrap: intervals and tests for editors measured on the same pairs.

Method: the nonparametric percentile bootstrap (Efron & Tibshirani 1993, ch. 13) with
whole clusters resampled (the cluster bootstrap: Davison & Hinkley 1997, sec. 3.8;
Field & Welsh 2007), clusters being the identities a protocol's pairs come from.
With several training seeds of an editor, seeds are resampled too, independently of
the clusters (the two-way "pigeonhole" bootstrap for crossed factors, Owen 2007),
which is conservative: its variance over-states the truth rather than under-states it.

A resample is a weight per pair (how often its cluster was drawn, multinomial) and
a weight per seed, so every statistic is a weighted one and every editor compared on
one protocol sees the *same* pair weights: differences are paired by construction.
The two-sided p-value is the percentile one, ``2 min(P*(d <= 0), P*(d >= 0))`` with
the usual +1 correction; it agrees with "the interval excludes 0" up to the resolution
of the resamples, and the interval is what decides significance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

N_RESAMPLES = 2000
LEVEL = 0.95


MIN_CLUSTERS = 10  # fewer identities: resample pairs (one identity would give zero-width intervals)


def cluster_codes(clusters: Sequence[str] | None, n: int) -> np.ndarray:
    """Integer cluster per pair; every pair its own cluster when ``clusters`` is empty.

    With fewer than ``MIN_CLUSTERS`` distinct identities the cluster bootstrap is
    degenerate (one identity: every resample is the whole set, so every interval has
    zero width) or unreliable, so each pair becomes its own cluster; callers say so
    (:func:`n_identities` tells how many there were).
    """
    if not clusters or all(c in ("", None) for c in clusters):
        return np.arange(n)
    if len(clusters) != n:
        raise ValueError(f"paired: {len(clusters)} cluster labels for {n} pairs")
    _, codes = np.unique(np.asarray([str(c) for c in clusters]), return_inverse=True)
    if codes.size and codes.max() + 1 < MIN_CLUSTERS:
        return np.arange(n)
    return codes.astype(np.int64)


def n_identities(clusters: Sequence[str] | None) -> int:
    """Distinct non-empty identity labels."""
    return len({str(c) for c in clusters or () if c not in ("", None)})


def pair_weights(codes: np.ndarray, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """``(B, n)`` weights: pair i counts as often as its cluster was drawn (K draws of K clusters)."""
    k = int(codes.max()) + 1 if codes.size else 0
    counts = rng.multinomial(k, np.full(k, 1.0 / k), size=n_resamples) if k else np.zeros((n_resamples, 0))
    return counts[:, codes].astype(np.float64)


def seed_weights(n_seeds: int, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """``(B, S)`` seed weights (all ones with one seed: nothing to resample)."""
    if n_seeds == 1:
        return np.ones((n_resamples, 1))
    return rng.multinomial(n_seeds, np.full(n_seeds, 1.0 / n_seeds), size=n_resamples).astype(np.float64)


def per_seed_means(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Point ``(S,)`` and resampled ``(B, S)`` means of ``values (S, n)`` over finite entries."""
    values = np.atleast_2d(np.asarray(values, dtype=np.float64))
    finite = np.isfinite(values)
    filled = np.where(finite, values, 0.0)
    count = finite.sum(axis=1)
    point = np.where(count > 0, filled.sum(axis=1) / np.maximum(count, 1), np.nan)
    num, den = weights @ filled.T, weights @ finite.T.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = np.where(den > 0, num / den, np.nan)
    return point, boot


def combine_seeds(point: np.ndarray, boot: np.ndarray, weights: np.ndarray) -> tuple[float, np.ndarray]:
    """Equal-weight mean over seeds: point value and ``(B,)`` resampled values (seed weights applied)."""
    ok = np.isfinite(boot)
    w = np.where(ok, weights, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        combined = (np.where(ok, boot, 0.0) * w).sum(axis=1) / w.sum(axis=1)
    return float(np.nanmean(point)) if np.isfinite(point).any() else float("nan"), combined


@dataclass(frozen=True)
class Interval:
    """A point value, its percentile interval and (for a difference) the two-sided p-value."""

    value: float
    ci: tuple[float, float]
    p: float | None = None
    n_resamples: int = 0

    def excludes_zero(self) -> bool:
        return bool(self.ci[0] > 0 or self.ci[1] < 0)


def percentile_interval(value: float, boot: np.ndarray, level: float = LEVEL) -> Interval:
    """Percentile interval of the finite resampled values."""
    boot = boot[np.isfinite(boot)]
    if boot.size == 0 or not np.isfinite(value):
        return Interval(value, (float("nan"), float("nan")), None, 0)
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(boot, [alpha, 1.0 - alpha])
    return Interval(value, (float(lo), float(hi)), None, int(boot.size))


def paired_difference(
    value_a: float, boot_a: np.ndarray, value_b: float, boot_b: np.ndarray, level: float = LEVEL
) -> Interval:
    """``a - b`` with its interval and p-value; ``boot_a``/``boot_b`` used the same pair weights."""
    diff = boot_a - boot_b
    interval = percentile_interval(value_a - value_b, diff, level)
    d = diff[np.isfinite(diff)]
    if d.size == 0:
        return interval
    below, above = (1 + np.sum(d <= 0)) / (d.size + 1), (1 + np.sum(d >= 0)) / (d.size + 1)
    return Interval(interval.value, interval.ci, float(min(1.0, 2 * min(below, above))), interval.n_resamples)


def mean_interval(
    values: np.ndarray,
    clusters: Sequence[str] | None = None,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    level: float = LEVEL,
) -> Interval:
    """Cluster (and seed, for ``values`` of shape ``(S, n)``) bootstrap interval of a mean."""
    values = np.atleast_2d(np.asarray(values, dtype=np.float64))
    rng = np.random.default_rng(seed)
    w = pair_weights(cluster_codes(clusters, values.shape[1]), n_resamples, rng)
    v = seed_weights(values.shape[0], n_resamples, rng)
    point, boot = per_seed_means(values, w)
    value, combined = combine_seeds(point, boot, v)
    return percentile_interval(value, combined, level)


def paired_mean_difference(
    a: np.ndarray,
    b: np.ndarray,
    clusters: Sequence[str] | None = None,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    level: float = LEVEL,
) -> Interval:
    """Mean of ``a`` minus mean of ``b`` (``(S, n)`` each, same pairs), resampling pairs x seeds."""
    a, b = np.atleast_2d(np.asarray(a, np.float64)), np.atleast_2d(np.asarray(b, np.float64))
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"paired: {a.shape[1]} and {b.shape[1]} pairs; a paired test needs the same pairs")
    rng = np.random.default_rng(seed)
    w = pair_weights(cluster_codes(clusters, a.shape[1]), n_resamples, rng)
    va, vb = seed_weights(a.shape[0], n_resamples, rng), seed_weights(b.shape[0], n_resamples, rng)
    both = np.isfinite(a).any(axis=0) & np.isfinite(b).any(axis=0)  # pairs both sides measured
    a, b = np.where(both, a, np.nan), np.where(both, b, np.nan)
    value_a, boot_a = combine_seeds(*per_seed_means(a, w), va)
    value_b, boot_b = combine_seeds(*per_seed_means(b, w), vb)
    return paired_difference(value_a, boot_a, value_b, boot_b, level)
