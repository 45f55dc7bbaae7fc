"""Paired / cluster / seed bootstrap: coverage by simulation (seeded) and the cluster effect on a toy."""

import numpy as np
import pytest

from faceedit_bench.harness.stats.paired import (
    MIN_CLUSTERS,
    cluster_codes,
    mean_interval,
    pair_weights,
    paired_mean_difference,
)


def test_pair_weights_draw_whole_clusters():
    labels = ["a", "a", "b", "c", "c", "c"] + [f"x{k}" for k in range(MIN_CLUSTERS - 3)]
    codes = cluster_codes(labels, len(labels))
    w = pair_weights(codes, 500, np.random.default_rng(0))
    assert w.shape == (500, len(labels))
    assert (w[:, 0] == w[:, 1]).all() and (w[:, 3] == w[:, 5]).all()  # a cluster moves as one
    firsts = [0, 2, 3, *range(6, len(labels))]
    assert (w[:, firsts].sum(axis=1) == MIN_CLUSTERS).all()  # K clusters drawn per resample
    assert (cluster_codes(None, 4) == np.arange(4)).all()


def test_too_few_identities_resample_pairs_instead_of_a_zero_width_interval():
    values = np.random.default_rng(1).normal(0, 1, 64)
    assert (cluster_codes(["person"] * 64, 64) == np.arange(64)).all()  # video-reenact: one test person
    iv = mean_interval(values, ["person"] * 64, n_resamples=500, seed=0)
    assert iv.ci[1] - iv.ci[0] > 0.2  # one cluster would give [mean, mean]


def test_paired_difference_coverage_by_simulation():
    """95% intervals of a paired mean difference cover the truth ~95% of the time."""
    rng = np.random.default_rng(12)
    hits, n_sims = 0, 300
    for sim in range(n_sims):
        shared = rng.normal(0, 1.0, 40)  # per-pair difficulty: a paired test removes it
        a = shared + rng.normal(0.3, 0.5, 40)
        b = shared + rng.normal(0.0, 0.5, 40)
        d = paired_mean_difference(a, b, n_resamples=1000, seed=sim)
        hits += d.ci[0] <= 0.3 <= d.ci[1]
        # the test and the interval agree up to the bootstrap's resolution (+1 correction)
        assert not (d.p < 0.045 and not d.excludes_zero()) and not (d.excludes_zero() and d.p > 0.055)
    assert 0.91 <= hits / n_sims <= 0.985


def test_pairing_removes_shared_difficulty():
    rng = np.random.default_rng(1)
    shared = rng.normal(0, 3.0, 60)
    a, b = shared + 0.2 + rng.normal(0, 0.1, 60), shared + rng.normal(0, 0.1, 60)
    d = paired_mean_difference(a, b, seed=0)
    ia, ib = mean_interval(a, seed=0), mean_interval(b, seed=0)
    assert ia.ci[0] < ib.ci[1]  # separate intervals overlap...
    assert d.excludes_zero() and d.value == pytest.approx(a.mean() - b.mean())  # ...the paired test does not


def test_cluster_resampling_on_a_toy_protocol():
    """Pairs of one identity share an effect: resampling pairs under-covers, identities do not."""
    rng = np.random.default_rng(5)
    clusters = [f"id{k}" for k in range(20) for _ in range(6)]
    cover = {"cluster": 0, "pair": 0}
    widths = {"cluster": [], "pair": []}
    n_sims = 150
    for sim in range(n_sims):
        effect = np.repeat(rng.normal(0, 1.0, 20), 6)
        values = effect + rng.normal(0, 0.3, 120)  # true mean 0
        for kind, labels in (("cluster", clusters), ("pair", None)):
            iv = mean_interval(values, labels, n_resamples=800, seed=sim)
            cover[kind] += iv.ci[0] <= 0 <= iv.ci[1]
            widths[kind].append(iv.ci[1] - iv.ci[0])
    assert cover["cluster"] / n_sims >= 0.88
    assert cover["pair"] / n_sims <= 0.7
    assert np.mean(widths["cluster"]) > 1.8 * np.mean(widths["pair"])


def test_seed_resampling_widens_for_seed_spread():
    """Three seeds that disagree: the pairs x seeds interval reflects it, one seed's does not."""
    rng = np.random.default_rng(3)
    base = rng.normal(1.0, 0.2, (1, 80))
    seeds = base + np.array([[-0.3], [0.0], [0.3]]) + rng.normal(0, 0.05, (3, 80))
    pooled = mean_interval(seeds, seed=0)
    one = mean_interval(seeds[1:2], seed=0)
    assert pooled.value == pytest.approx(seeds.mean())
    assert pooled.ci[1] - pooled.ci[0] > 3 * (one.ci[1] - one.ci[0])
    with pytest.raises(ValueError, match="same pairs"):
        paired_mean_difference(seeds, base[:, :40])
