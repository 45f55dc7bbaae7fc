"""FID and KID under resampling weights, for bootstrap intervals with the features reused.

A bootstrap resample of pairs is a weight per pair (how often it was drawn); the
edited and the real feature of a pair carry the same weight, so editors compared on
one resample are paired. Features are extracted once; each resample only reweights.

FID (Heusel et al. 2017) of a weighted set: means and covariances as ``np.cov`` of the
resample written out row by row. ``tr sqrt(S1 S2)`` is the nuclear norm of
``A1 A2^T`` where ``S = A^T A`` (Sylvester: ``S1 S2`` and ``A1 A2^T A2 A1^T`` share
their non-zero eigenvalues), an ``u x u`` problem over the ``u`` distinct pairs drawn,
built from Gram matrices computed once.

KID (Bińkowski et al. 2018) of a weighted set: the full-set unbiased MMD² with the
polynomial kernel, a weighted U-statistic whose excluded "diagonal" is every term
pairing a sample with a copy of itself.
"""

from __future__ import annotations

import numpy as np

from faceedit_bench.metrics.functional.kid import KIDConfig, polynomial_kernel


def _check(x1: np.ndarray, x2: np.ndarray, weights: np.ndarray) -> np.ndarray:
    if x1.shape != x2.shape or x1.ndim != 2:
        raise ValueError(f"set bootstrap: expected paired (n, D) features, got {x1.shape} and {x2.shape}")
    weights = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    if weights.shape[1] != x1.shape[0]:
        raise ValueError(f"set bootstrap: {weights.shape[1]} weights for {x1.shape[0]} pairs")
    return weights


def weighted_fid(x1: np.ndarray, x2: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """FID of ``x1`` vs ``x2`` (paired rows) under each row of ``weights (B, n)``; ``(B,)``."""
    weights = _check(x1, x2, weights)
    x1, x2 = np.asarray(x1, np.float64), np.asarray(x2, np.float64)
    g11, g22, g12 = x1 @ x1.T, x2 @ x2.T, x1 @ x2.T
    out = np.full(len(weights), np.nan)
    for b, w in enumerate(weights):
        keep = w > 0
        total = w.sum()
        if total < 2:
            continue
        wk = w[keep]
        a11, a22, a12 = g11[np.ix_(keep, keep)], g22[np.ix_(keep, keep)], g12[np.ix_(keep, keep)]
        r11, r22 = a11 @ wk / total, a22 @ wk / total  # x_i . mu (per side)
        r12, c12 = a12 @ wk / total, wk @ a12 / total  # x1_i . mu2, mu1 . x2_j
        m11, m22, m12 = wk @ r11 / total, wk @ r22 / total, wk @ r12 / total  # mu . mu
        tr1 = (wk @ np.diag(a11) - total * m11) / (total - 1)
        tr2 = (wk @ np.diag(a22) - total * m22) / (total - 1)
        centred = a12 - r12[:, None] - c12[None, :] + m12
        scale = np.sqrt(wk / (total - 1))
        nuclear = np.linalg.svd(centred * scale[:, None] * scale[None, :], compute_uv=False).sum()
        out[b] = (m11 + m22 - 2 * m12) + tr1 + tr2 - 2 * nuclear
    return out


def weighted_kid(
    x1: np.ndarray, x2: np.ndarray, weights: np.ndarray, config: KIDConfig | None = None
) -> np.ndarray:
    """Full-set unbiased MMD² of ``x1`` vs ``x2`` under each row of ``weights (B, n)``; ``(B,)``."""
    weights = _check(x1, x2, weights)
    config = config or KIDConfig()
    k = lambda a, b: polynomial_kernel(a, b, config.degree, config.gamma, config.coef0)  # noqa: E731
    x1, x2 = np.asarray(x1, np.float64), np.asarray(x2, np.float64)
    kxx, kyy, kxy = k(x1, x1), k(x2, x2), k(x1, x2)
    total = weights.sum(axis=1)
    self_pairs = (weights**2).sum(axis=1)
    xx = ((weights @ kxx) * weights).sum(axis=1) - weights**2 @ np.diag(kxx)
    yy = ((weights @ kyy) * weights).sum(axis=1) - weights**2 @ np.diag(kyy)
    xy = ((weights @ kxy) * weights).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (xx + yy) / (total**2 - self_pairs) - 2 * xy / total**2
