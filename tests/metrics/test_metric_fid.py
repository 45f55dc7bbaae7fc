import math

import numpy as np
import pytest
import scipy.linalg
import torch

from faceedit_bench.api.editor import EditOutput
from faceedit_bench.api.step import BackendSet
from faceedit_bench.metrics.functional.fid import fid_from_features, frechet_distance, mean_cov, moments
from faceedit_bench.metrics.metric_fid import FID


def _reference_fid(x: np.ndarray, y: np.ndarray) -> float:
    """Direct TTUR-style computation with numpy/scipy."""
    m1, m2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def test_functional_fid_matches_direct_numpy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 12))
    y = rng.normal(size=(50, 12)) @ rng.normal(size=(12, 12)) * 0.5 + 0.3
    ref = _reference_fid(x, y)
    for method in ("sqrtm", "eigh"):
        got = fid_from_features(torch.from_numpy(x), torch.from_numpy(y), method=method)
        assert math.isclose(got, ref, rel_tol=1e-9), method
    _, sigma = mean_cov(*moments(torch.from_numpy(x)))
    assert np.allclose(sigma, np.cov(x, rowvar=False), rtol=1e-12, atol=1e-14)
    assert fid_from_features(torch.from_numpy(x), torch.from_numpy(x)) == pytest.approx(0.0, abs=1e-9)


def test_fid_rank_deficient_covariances_agree_across_methods():
    rng = np.random.default_rng(1)
    x, y = rng.random((10, 64)), rng.random((12, 64)) + 0.05  # fewer samples than dimensions
    a = fid_from_features(torch.from_numpy(x), torch.from_numpy(y), method="sqrtm")
    b = fid_from_features(torch.from_numpy(x), torch.from_numpy(y), method="eigh")
    assert math.isclose(a, b, rel_tol=1e-6)


def test_frechet_distance_rejects_mismatched_statistics():
    with pytest.raises(ValueError, match="mismatched"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


def _steps(make_step, pair_batch, fakes, n_batches: int, ground_truth: bool = True):
    backends = BackendSet(fid_features=fakes.features())
    for b in range(n_batches):
        batch = pair_batch(n=5, size=16, seed=b, ground_truth=ground_truth)
        edited = (batch.source * 0.7 + 0.1).clamp(0, 1)
        yield make_step(batch, EditOutput(edited), backends)


def test_fid_metric_equals_direct_and_shards_merge(make_step, pair_batch, fakes):
    steps = list(_steps(make_step, pair_batch, fakes, 4))
    one = FID(backend_label="pooled")
    for s in steps:
        assert one.update(s) == {}
    edited = torch.cat([s.fid_features("edited") for s in steps]).numpy()
    real = torch.cat([s.fid_features("target") for s in steps]).numpy()
    assert math.isclose(one.compute()["fid"], _reference_fid(edited, real), rel_tol=1e-6)

    shards = [FID(backend_label="pooled"), FID(backend_label="pooled")]
    for i, s in enumerate(steps):
        shards[i % 2].update(s)  # interleaved, as the harness shards batches
    merged = FID(backend_label="pooled")
    merged.merge([sh.state() for sh in shards])
    for key, value in one.state().items():
        assert torch.allclose(merged.state()[key], value, rtol=1e-13, atol=0), key
    assert math.isclose(merged.compute()["fid"], one.compute()["fid"], rel_tol=1e-10)
    assert merged.state()["edited_count"].item() == 20


def test_fid_uses_sources_without_ground_truth(make_step, pair_batch, fakes):
    steps = list(_steps(make_step, pair_batch, fakes, 2, ground_truth=False))
    metric = FID()
    for s in steps:
        metric.update(s)
    edited = torch.cat([s.fid_features("edited") for s in steps]).numpy()
    source = torch.cat([s.fid_features("source") for s in steps]).numpy()
    # 10 samples in 48 dimensions: sqrtm of a singular product, so a looser tolerance
    assert math.isclose(metric.compute()["fid"], _reference_fid(edited, source), rel_tol=1e-6)


def test_fid_too_few_samples_is_nan_and_bad_state_is_refused():
    assert math.isnan(FID().compute()["fid"])
    with pytest.raises(ValueError, match="cannot merge"):
        FID().merge([{"edited_features": torch.zeros(2, 3)}])


def test_eigh_fid_with_memoised_real_root_matches_sqrtm():
    rng = np.random.default_rng(5)
    real = torch.from_numpy(rng.random((60, 8)))
    stats_real = mean_cov(*moments(real))
    for shift in (0.0, 0.3, 0.3):  # the repeat reuses the memoised root of the real side
        edited = torch.from_numpy(rng.random((50, 8)) + shift)
        stats_edit = mean_cov(*moments(edited))
        exact = frechet_distance(*stats_edit, *stats_real, method="sqrtm")
        fast = frechet_distance(*stats_edit, *stats_real, method="eigh")
        assert fast == pytest.approx(exact, rel=1e-6, abs=1e-9)
