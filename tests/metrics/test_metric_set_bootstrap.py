"""FID/KID under resampling weights equal the statistics of the resample written out row by row."""

import numpy as np
import pytest
import torch

from faceedit_bench.metrics.functional.fid import fid_from_features
from faceedit_bench.metrics.functional.kid import KIDConfig, polynomial_kernel
from faceedit_bench.metrics.functional.set_bootstrap import weighted_fid, weighted_kid


def _data(n=30, d=40, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(0.3, 1.2, size=(n, d))


def test_weighted_fid_equals_fid_of_the_written_out_resample():
    x, y = _data()  # fewer samples than dimensions, as with 200 pairs of 2048-d features
    ones = np.ones((1, len(x)))
    exact = fid_from_features(torch.from_numpy(x), torch.from_numpy(y), method="sqrtm")
    # scipy's sqrtm of these rank-deficient covariances moves in the 8th digit with the BLAS
    # thread split (1.3e-8 seen on a loaded 2-core machine): 1e-7, as for the resamples
    assert weighted_fid(x, y, ones)[0] == pytest.approx(exact, rel=1e-7)
    w = np.random.default_rng(1).multinomial(len(x), np.full(len(x), 1 / len(x)), size=3).astype(float)
    got = weighted_fid(x, y, w)
    for b in range(3):
        idx = np.repeat(np.arange(len(x)), w[b].astype(int))
        ref = fid_from_features(torch.from_numpy(x[idx]), torch.from_numpy(y[idx]), method="sqrtm")
        assert got[b] == pytest.approx(ref, rel=1e-7)


def _mmd_excluding_copies(x, y, idx, cfg):
    k = lambda a, b: polynomial_kernel(a, b, cfg.degree, cfg.gamma, cfg.coef0)  # noqa: E731
    same = idx[:, None] == idx[None, :]
    kxx, kyy, kxy = k(x[idx], x[idx]), k(y[idx], y[idx]), k(x[idx], y[idx])
    m = len(idx)
    return kxx[~same].mean() + kyy[~same].mean() - 2 * kxy.sum() / (m * m)


def test_weighted_kid_is_the_unbiased_mmd_without_self_pairs():
    x, y = _data(n=25, d=8, seed=2)
    cfg = KIDConfig()
    w = np.vstack([np.ones(25), np.random.default_rng(3).multinomial(25, np.full(25, 1 / 25))]).astype(float)
    got = weighted_kid(x, y, w, cfg)
    for b in range(2):
        idx = np.repeat(np.arange(25), w[b].astype(int))
        assert got[b] == pytest.approx(_mmd_excluding_copies(x, y, idx, cfg), rel=1e-10)
    with pytest.raises(ValueError, match="weights"):
        weighted_kid(x, y, np.ones((1, 24)))
