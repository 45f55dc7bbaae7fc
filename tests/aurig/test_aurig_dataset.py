"""AU-rig dataset: splits, AU distribution, pair recipes and their ground truth."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from faceedit_bench.api.aus import AU_NAMES, N_AUS
from faceedit_bench.api.dataset import FaceDataset, PairSet
from faceedit_bench.aurig.dataset import DEFAULT_SIZES, SAMPLES_PER_IDENTITY, AuRigDataset
from faceedit_bench.aurig.rng import SPLITS, identity_keys
from faceedit_bench.plugins import datasets

torch.set_num_threads(1)


def test_registered_under_its_name() -> None:
    cls = datasets.get("aurig")
    assert cls is AuRigDataset and issubclass(cls, FaceDataset)


def test_splits_are_disjoint_by_construction() -> None:
    keys = {}
    for split in SPLITS:
        n_ids = DEFAULT_SIZES[split] // SAMPLES_PER_IDENTITY
        keys[split] = set(identity_keys(split, 0, np.arange(n_ids)).tolist())
        assert len(keys[split]) == n_ids
    names = list(keys)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not keys[a] & keys[b], f"{a} and {b} share identities"
    # also across seeds: the split code, not the seed, separates splits
    assert not set(identity_keys("train", 7, np.arange(100)).tolist()) & set(
        identity_keys("reference", 0, np.arange(100)).tolist()
    )
    # and the identities themselves differ (the key is hashed into the parameters)
    a = AuRigDataset("train", 32).identities([0]).face_rx
    b = AuRigDataset("reference", 32).identities([0]).face_rx
    assert not torch.equal(a, b)


def test_samples_of_one_identity_share_it() -> None:
    ds = AuRigDataset("val", 32)
    assert len(ds) == DEFAULT_SIZES["val"]
    b = ds.get_batch(range(SAMPLES_PER_IDENTITY + 1))
    assert len(set(b.identity_ids[:SAMPLES_PER_IDENTITY])) == 1
    assert b.identity_ids[-1] != b.identity_ids[0]
    s = ds.get(3)
    assert torch.equal(s.image, b.images[3]) and torch.equal(s.aus, b.aus[3])
    with pytest.raises(IndexError):
        ds.get(len(ds))


def test_au_distribution_is_sparse_and_covers_every_au() -> None:
    aus = AuRigDataset("train", 32).aus(range(5000))
    assert aus.shape == (5000, N_AUS) and float(aus.min()) >= 0 and float(aus.max()) <= 5
    active = (aus > 0).float()
    assert 0.05 < float((active.sum(1) == 0).float().mean()) < 0.2  # some neutral faces
    assert float(active.mean()) < 0.35  # most AUs are off
    assert float(active.mean(0).min()) > 0.03  # every AU occurs
    # prototypes make AU06 and AU12 co-occur (happy)
    i6, i12 = AU_NAMES.index("AU06"), AU_NAMES.index("AU12")
    assert float(active[:, i6] @ active[:, i12]) / float(active[:, i6].sum()) > 0.4


def test_ganimation_pairs_have_consistent_ground_truth() -> None:
    ds = AuRigDataset("test", 32, size=300)
    pairs = ds.make_pairs(40, seed=3)
    assert isinstance(pairs, PairSet) and pairs.has_ground_truth and len(pairs) == 40
    b = pairs.batch([0, 5, 39])
    assert b.source.shape == b.target_image.shape == (3, 3, 32, 32)
    assert b.flow.shape == (3, 32, 32, 2) and b.texture_mask.shape == (3, 1, 32, 32)
    assert set(torch.unique(b.texture_mask).tolist()) <= {0.0, 1.0}
    assert float(b.flow.abs().max()) <= 1.0
    assert b.target_aus.shape == b.source_aus.shape == (3, N_AUS)
    assert float(b.target_aus.min()) >= 0 and float(b.target_aus.max()) <= 5
    assert len(b.sample_ids) == len(b.identity_ids) == 3
    # deterministic, and independent of which other pairs share the batch
    again = ds.make_pairs(40, seed=3).batch([5])
    assert torch.equal(again.target_image[0], b.target_image[1]) and torch.equal(again.flow[0], b.flow[1])
    assert ds.make_pairs(40, seed=4).sample_ids != pairs.sample_ids
    # target AUs are another sample's AUs plus at most 0.5 of noise
    keys = pairs.cache_key()
    assert keys != ds.make_pairs(40, seed=4).cache_key() and ds.cache_key() in keys


def test_sweep_pairs_move_one_au_from_neutral() -> None:
    ds = AuRigDataset("test", 32, size=300)
    sweep = ds.make_sweep("AU12", steps=6, n_identities=2, seed=0)
    assert len(sweep) == 12
    b = sweep.batch(range(12))
    k = AU_NAMES.index("AU12")
    assert float(b.source_aus.abs().sum()) == 0
    assert torch.allclose(b.target_aus[:6, k], torch.linspace(0, 5, 6))
    others = torch.cat([b.target_aus[:, :k], b.target_aus[:, k + 1 :]], 1)
    assert float(others.abs().sum()) == 0
    assert torch.equal(b.source[0], b.target_image[0])  # level 0 is the source itself
    recipe = ds.make_pairs(8, seed=0, recipe="sweep:AU12")
    assert len(recipe) == 8
    with pytest.raises(ValueError, match="recipe"):
        ds.make_pairs(8, seed=0, recipe="nope")
    with pytest.raises(ValueError, match="unknown action unit"):
        ds.make_pairs(8, seed=0, recipe="sweep:AU99")


def test_bad_arguments_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="split"):
        AuRigDataset("training")
    with pytest.raises(ValueError, match="size"):
        AuRigDataset("train", size=0)


def test_cache_key_follows_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    from faceedit_bench.aurig import version

    key = AuRigDataset("test", 32).cache_key()
    assert key != AuRigDataset("test", 64).cache_key() != AuRigDataset("test", 32, seed=1).cache_key()
    version.renderer_hash.cache_clear()
    version.dataset_hash.cache_clear()
    real = version._hash_files
    monkeypatch.setattr(version, "_hash_files", lambda paths: real(paths) + "edited")
    try:
        assert AuRigDataset("test", 32).cache_key() != key
    finally:
        version.renderer_hash.cache_clear()
        version.dataset_hash.cache_clear()
