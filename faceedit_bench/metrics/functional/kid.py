"""Kernel Inception Distance (Bińkowski et al., ICLR 2018): unbiased polynomial-kernel MMD².

Follows the reference MMD-GAN code as used by torch-fidelity's ``metric_kid``:
kernel ``(gamma <x, y> + coef0) ** degree`` with ``gamma = 1 / D`` by default,
averaged over random subsets drawn with ``np.random.RandomState(seed)`` (first
side's subset, then the second side's, per subset), so the same features give
torch-fidelity's numbers exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class KIDConfig:
    """torch-fidelity's defaults (subset size 1000, capped at the sample count by callers)."""

    subsets: int = 100
    subset_size: int = 1000
    degree: int = 3
    gamma: float | None = None  # None: 1 / feature dimension
    coef0: float = 1.0
    seed: int = 2020


def polynomial_kernel(
    x: np.ndarray, y: np.ndarray, degree: int, gamma: float | None, coef0: float
) -> np.ndarray:
    g = 1.0 / x.shape[1] if gamma is None else gamma
    return (x @ y.T * g + coef0) ** degree


def mmd2_unbiased(k_xx: np.ndarray, k_xy: np.ndarray, k_yy: np.ndarray) -> float:
    """Unbiased MMD² from the three ``(m, m)`` kernel matrices (diagonals of K_xx, K_yy dropped)."""
    m = k_xx.shape[0]
    sum_xx = k_xx.sum() - np.trace(k_xx)
    sum_yy = k_yy.sum() - np.trace(k_yy)
    return float((sum_xx + sum_yy) / (m * (m - 1)) - 2.0 * k_xy.sum() / (m * m))


def subset_mmd2(x: np.ndarray, y: np.ndarray, config: KIDConfig) -> float:
    """Unbiased polynomial-kernel MMD² of one pair of equal-size subsets."""
    k = lambda a, b: polynomial_kernel(a, b, config.degree, config.gamma, config.coef0)  # noqa: E731
    return mmd2_unbiased(k(x, x), k(x, y), k(y, y))


# Above this many kernel entries per matrix (8 bytes each) subsets are computed one by one.
MAX_PRECOMPUTED_KERNEL = 4096 * 4096


def kid(f1: np.ndarray, f2: np.ndarray, config: KIDConfig = KIDConfig()) -> tuple[float, float]:
    """Mean and standard deviation of MMD² over ``config.subsets`` random subsets.

    When the full kernel matrices fit in memory they are computed once and every
    subset indexes into them (a subset's kernel entries are the same dot products),
    instead of recomputing ``3 * subset_size²`` D-dimensional products per subset.
    """
    n1, n2 = len(f1), len(f2)
    if f1.ndim != 2 or f2.ndim != 2 or f1.shape[1] != f2.shape[1]:
        raise ValueError(f"kid: expected (N, D) features of one width, got {f1.shape} and {f2.shape}")
    m = config.subset_size
    if m < 2 or n1 < m or n2 < m:
        raise ValueError(f"kid: subset size {m} needs 2 <= size <= sample counts ({n1}, {n2})")
    k = lambda a, b: polynomial_kernel(a, b, config.degree, config.gamma, config.coef0)  # noqa: E731
    full = max(n1, n2) ** 2 <= MAX_PRECOMPUTED_KERNEL
    k_xx, k_xy, k_yy = (k(f1, f1), k(f1, f2), k(f2, f2)) if full else (None, None, None)
    rng = np.random.RandomState(config.seed)
    values = np.zeros(config.subsets)
    for i in range(config.subsets):
        a = rng.choice(n1, m, replace=False)
        b = rng.choice(n2, m, replace=False)
        if k_xx is None:
            values[i] = subset_mmd2(f1[a], f2[b], config)
        else:
            values[i] = mmd2_unbiased(k_xx[np.ix_(a, a)], k_xy[np.ix_(a, b)], k_yy[np.ix_(b, b)])
    return float(values.mean()), float(values.std())


def canonical_order(features: np.ndarray) -> np.ndarray:
    """Rows sorted lexicographically: a set's order no longer depends on how it was sharded."""
    return features[np.lexsort(features.T[::-1])] if len(features) else features
