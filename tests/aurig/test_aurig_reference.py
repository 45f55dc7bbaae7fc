"""AU-rig reference judges: shipped weights, their accuracy, metric helpers, retrain-on-change."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from faceedit_bench.api.aus import AU_NAMES, N_AUS
from faceedit_bench.api.backends import AUDetector, IdentityModel
from faceedit_bench.aurig.dataset import AuRigDataset
from faceedit_bench.aurig.reference import backends, probe
from faceedit_bench.aurig.reference.metrics import au_scores, equal_error_rate, pair_scores
from faceedit_bench.plugins import au_detectors, identity_models

torch.set_num_threads(1)


def test_shipped_weights_match_the_current_code() -> None:
    for name in ("au_regressor", "identity_encoder"):
        record = json.loads((backends.WEIGHTS_DIR / f"{name}.json").read_text())
        why = probe.probe_mismatch(backends.WEIGHTS_DIR, record)
        assert why is None, f"{name}: {why}; retrain (see datasets.md)"
        assert (backends.WEIGHTS_DIR / f"{name}.pt").stat().st_size < 3 * 2**20
        assert record["trained_on"] == "aurig reference split only"


@pytest.fixture(scope="module")
def judges() -> tuple[AUDetector, IdentityModel]:
    return au_detectors.get("aurig-ref")(), identity_models.get("aurig-ref")()


def test_au_detector_reads_a_sweep(judges: tuple[AUDetector, IdentityModel]) -> None:
    det, _ = judges
    assert det.label == "aurig-ref" and det.input_size == 64
    ds = AuRigDataset("val", 64)
    for au in ("AU12", "AU26", "AU04"):
        b = ds.make_sweep(au, steps=6, n_identities=3, seed=0).batch(range(18))
        pred = det.detect(b.target_image)
        assert pred.shape == (18, N_AUS) and float(pred.min()) >= 0 and float(pred.max()) <= 5
        k = AU_NAMES.index(au)
        per_level = pred[:, k].view(3, 6).mean(0)
        assert float(per_level[-1] - per_level[0]) > 3.0, f"{au}: {per_level.tolist()}"
        assert float((per_level[1:] - per_level[:-1]).min()) > -0.3  # roughly monotonic


def test_au_detector_accuracy_on_held_out_faces(judges: tuple[AUDetector, IdentityModel]) -> None:
    det, _ = judges
    b = AuRigDataset("val", 64).get_batch(range(0, 2000, 10))
    pred = det.detect(b.images)
    assert float((pred - b.aus).abs().mean()) < 0.5
    # other resolutions are resized to 64 px
    small = torch.nn.functional.interpolate(b.images[:8], size=(48, 48), mode="bilinear", antialias=True)
    assert det.detect(small).shape == (8, N_AUS)


def test_identity_model_separates_identities(judges: tuple[AUDetector, IdentityModel]) -> None:
    _, ident = judges
    ds = AuRigDataset("test", 64)
    b = ds.get_batch(range(0, 200))  # 20 identities x 10 expressions
    emb = ident.embed(b.images)
    assert emb.shape[0] == 200 and torch.allclose(emb.norm(dim=1), torch.ones(200), atol=1e-5)
    labels = torch.arange(200) // 10
    same, diff = pair_scores(emb, labels)
    eer, _ = equal_error_rate(same, diff)
    assert eer < 0.1
    assert 0 < ident.threshold < 1 and float((same >= ident.threshold).float().mean()) > 0.9
    prov = ident.provenance()
    shipped = json.loads((backends.WEIGHTS_DIR / "identity_encoder.json").read_text())
    assert prov["label"] == "aurig-ref" and prov["code_version"] == shipped["code_version"]


def test_au_scores_match_numpy() -> None:
    g = torch.Generator().manual_seed(0)
    true = torch.rand(50, N_AUS, generator=g) * 5
    pred = true + torch.randn(50, N_AUS, generator=g) * 0.3
    s = au_scores(pred, true)
    ref_r = [np.corrcoef(pred[:, k].numpy(), true[:, k].numpy())[0, 1] for k in range(N_AUS)]
    assert s["pearson_min"] == pytest.approx(min(ref_r), abs=1e-5)
    assert s["mae_mean"] == pytest.approx(float(np.abs(pred - true).mean()), abs=1e-6)


def test_equal_error_rate_on_known_scores() -> None:
    same = torch.tensor([0.9, 0.8, 0.7, 0.3])
    diff = torch.tensor([0.1, 0.2, 0.4, 0.75])
    eer, thr = equal_error_rate(same, diff)
    assert eer == pytest.approx(0.25) and 0.3 < thr <= 0.75
    assert equal_error_rate(torch.tensor([0.9, 0.8]), torch.tensor([0.1, 0.2]))[0] == 0.0


def test_code_change_retrains_into_the_cache(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("FACEEDIT_BENCH_CACHE", str(tmp_path))
    monkeypatch.setattr(backends, "probe_mismatch", lambda folder, record: "renderer output changed")
    monkeypatch.setattr(backends, "reference_key", lambda: "changed0000")
    calls = []

    def fake_train_all(out, cfg=None, command=None):
        calls.append(out)
        for name in ("au_regressor", "identity_encoder"):
            (out / f"{name}.pt").write_bytes(b"x")
            (out / f"{name}.json").write_text(json.dumps({"code_version": "changed0000"}))

    import faceedit_bench.aurig.reference.train as train_mod

    monkeypatch.setattr(train_mod, "train_all", fake_train_all)
    folder, record = backends.weights_folder("au_regressor")
    assert folder == tmp_path / "aurig-reference" / "changed0000" and record["code_version"] == "changed0000"
    backends.weights_folder("identity_encoder")  # already there: no second training
    assert len(calls) == 1


def _fake_weights(folder, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """A record with the current reference-code hash and a small stand-in probe saved in ``folder``."""
    fake = torch.arange(2 * 3 * 4 * 4, dtype=torch.uint8).view(2, 3, 4, 4) * 2 + 1
    monkeypatch.setattr(probe, "current_probe", lambda: fake)
    return {"reference_code": probe.reference_code_hash(), "renderer_probe": probe.probe_record(folder)}


def test_a_faster_renderer_keeps_the_weights(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    record = _fake_weights(tmp_path, monkeypatch)
    stored = probe.current_probe()
    assert probe.probe_mismatch(tmp_path, record) is None
    # one grey level anywhere (rounding of a reordered sum) is the same renderer
    nudged = stored.clone()
    nudged[0, 0, 0, :2] += 1
    nudged[1, 2, 3, 3] -= 1
    monkeypatch.setattr(probe, "current_probe", lambda: nudged)
    assert probe.probe_mismatch(tmp_path, record) is None


def test_changed_images_or_network_code_invalidate_the_weights(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    record = _fake_weights(tmp_path, monkeypatch)
    changed = probe.current_probe().clone()
    changed[1, 0, 2, 2] += 2
    monkeypatch.setattr(probe, "current_probe", lambda: changed)
    assert "differs by up to 2/255" in str(probe.probe_mismatch(tmp_path, record))
    assert "reference-network code" in str(
        probe.probe_mismatch(tmp_path, {**record, "reference_code": "old"})
    )
    assert "no renderer probe" in str(probe.probe_mismatch(tmp_path, {**record, "renderer_probe": None}))
    torch.save(changed, tmp_path / probe.PROBE_FILE)  # edited by hand: digest no longer matches
    assert "recorded digest" in str(probe.probe_mismatch(tmp_path, record))


def test_probe_is_deterministic_and_small() -> None:
    a = probe.render_probe()
    assert a.dtype == torch.uint8 and a.shape == (probe.PROBE_IDS * probe.PROBE_PER_ID, 3, 32, 32)
    assert torch.equal(a, probe.render_probe())


def test_pool_mixes_realistic_independent_and_lid_samples() -> None:
    from faceedit_bench.api.aus import au_index
    from faceedit_bench.aurig.reference.data import LID_MIX_EVERY, lid_mixtures, render_pool
    from faceedit_bench.aurig.rng import mix, split_code

    pool = render_pool(n_ids=4, per_id=8, seed=0, res=32)
    assert pool.images.shape == (32, 3, 32, 32) and pool.images.dtype == torch.uint8
    lids = pool.aus[LID_MIX_EVERY - 1 :: LID_MIX_EVERY]
    assert (lids[:, au_index("AU45")] >= 0.5).all() and (pool.aus >= 0).all() and (pool.aus <= 5).all()
    # the mixtures' own draws: AU45 always on, AU05 and AU07 on about 60% and 40% of the time
    keys = mix(split_code("reference"), 0, np.arange(4000))
    base = torch.zeros(4000, N_AUS)
    aus = lid_mixtures(keys, base)
    on = (aus > 0).float().mean(0)
    assert on[au_index("AU45")] == 1.0
    assert abs(on[au_index("AU05")] - 0.6) < 0.03 and abs(on[au_index("AU07")] - 0.4) < 0.03
    others = [i for i in range(N_AUS) if AU_NAMES[i] not in ("AU05", "AU07", "AU45")]
    assert (aus[:, others] == 0).all()
