import math

import numpy as np
import pytest
import torch
from torch_fidelity.metric_kid import kid_features_to_metric

from faceedit_bench.api.editor import EditOutput
from faceedit_bench.api.step import BackendSet
from faceedit_bench.metrics.functional.kid import KIDConfig, kid
from faceedit_bench.metrics.metric_kid import KID

TF_KWARGS = dict(  # torch-fidelity defaults, spelled out
    kid_subsets=100,
    kid_kernel="poly",
    kid_kernel_poly_degree=3,
    kid_kernel_poly_gamma=None,
    kid_kernel_poly_coef0=1,
    rng_seed=2020,
    verbose=False,
)


def test_functional_kid_matches_torch_fidelity():
    rng = np.random.default_rng(0)
    x, y = rng.random((30, 16)), rng.random((25, 16)) * 1.2
    for size in (10, 25):
        ref = kid_features_to_metric(
            torch.from_numpy(x), torch.from_numpy(y), kid_subset_size=size, **TF_KWARGS
        )
        mean, std = kid(x, y, KIDConfig(subset_size=size))
        assert math.isclose(mean, ref["kernel_inception_distance_mean"], rel_tol=1e-10)
        assert math.isclose(std, ref["kernel_inception_distance_std"], rel_tol=1e-8)
    with pytest.raises(ValueError, match="subset size"):
        kid(x, y, KIDConfig(subset_size=26))


def test_precomputed_kernels_equal_per_subset_kernels(monkeypatch):
    import faceedit_bench.metrics.functional.kid as kid_module

    rng = np.random.default_rng(3)
    x, y = rng.random((40, 12)), rng.random((35, 12)) + 0.1
    fast = kid(x, y, KIDConfig(subset_size=20))
    monkeypatch.setattr(kid_module, "MAX_PRECOMPUTED_KERNEL", 0)  # force one kernel per subset
    slow = kid(x, y, KIDConfig(subset_size=20))
    assert fast[0] == pytest.approx(slow[0], rel=1e-10)
    assert fast[1] == pytest.approx(slow[1], rel=1e-8)


def test_kid_small_for_one_distribution_and_grows_with_shift():
    rng = np.random.default_rng(1)
    x, x2 = rng.random((200, 8)), rng.random((200, 8))
    cfg = KIDConfig(subsets=10, subset_size=100)
    near, shifted, far = (kid(x, y, cfg)[0] for y in (x2, x2 + 0.2, x2 + 0.5))
    assert abs(near) < 0.01 * far and near < shifted < far


def test_kid_metric_shard_invariant_and_equal_to_functional(make_step, pair_batch, fakes):
    backends = BackendSet(fid_features=fakes.features())
    steps = []
    for b in range(4):
        batch = pair_batch(n=4, size=12, seed=b)
        steps.append(make_step(batch, EditOutput((batch.source + 0.2).clamp(0, 1)), backends))
    one = KID(backend_label="pooled")
    for s in steps:
        assert one.update(s) == {}
    shards = [KID(), KID()]
    order = []
    for i, s in enumerate(steps):
        shards[(i + 1) % 2].update(s)  # interleaved: a different row order than `one`
    for k in (0, 1):  # shard 0 holds steps 1 and 3, shard 1 steps 0 and 2
        order += [r for i in range(4) if (i + 1) % 2 == k for r in range(4 * i, 4 * i + 4)]
    merged = KID()
    merged.merge([sh.state() for sh in shards])
    assert merged.align(np.argsort(order, kind="stable"))  # back in pair order
    got = one.compute()
    assert merged.compute() == got  # exactly
    x = torch.cat([s.fid_features("edited") for s in steps]).numpy()
    y = torch.cat([s.fid_features("target") for s in steps]).numpy()
    mean, std = kid(x, y, KIDConfig(subset_size=8))  # half the 16 samples: subsets differ
    assert got == {"kid": mean, "kid_std": std} and std > 1e-6
    assert math.isnan(KID().compute()["kid"])
    assert not KID().align(np.arange(3))


@pytest.mark.parametrize(
    ("n", "subsets"), [(200, 100), pytest.param(2000, 3, marks=pytest.mark.slow)]
)  # 2,000 pairs: a few seconds on an idle core (fewer subsets), minutes on a loaded one
def test_kid_metric_equals_torch_fidelity_at_protocol_sizes(n, subsets):
    """Pair order and subset size n // 2 (1000 at 2,000 pairs, torch-fidelity's default)."""
    rng = np.random.default_rng(n)
    x, y = rng.random((n, 24)), rng.random((n, 24)) * 1.1
    metric = KID()
    metric.config = KIDConfig(subsets=subsets)
    perm = rng.permutation(n)  # rows arrive in another order (shards), align puts them back
    metric.merge([{"edited_features": torch.from_numpy(x[perm]), "real_features": torch.from_numpy(y[perm])}])
    assert metric.align(np.argsort(perm))
    got = metric.compute()
    kwargs = {**TF_KWARGS, "kid_subsets": subsets}
    ref = kid_features_to_metric(torch.from_numpy(x), torch.from_numpy(y), kid_subset_size=n // 2, **kwargs)
    assert abs(got["kid"] - ref["kernel_inception_distance_mean"]) < 1e-6 * max(1e-3, abs(got["kid"]))
    assert got["kid_std"] == pytest.approx(ref["kernel_inception_distance_std"], rel=1e-6)
    assert got["kid_std"] > 1e-5  # real subsets: not the 2e-16 of one repeated full-set subset
