"""AU-rig reference judges: shipped weights, their accuracy, metric helpers, threshold rule, retrain-on-change."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from faceedit_bench.api.aus import AU_NAMES, N_AUS
from faceedit_bench.api.backends import AUDetector, IdentityModel
from faceedit_bench.aurig.dataset import AuRigDataset
from faceedit_bench.aurig.reference import backends, evaluate, probe
from faceedit_bench.aurig.reference.metrics import (
    THRESHOLD_RULE,
    au_scores,
    equal_error_rate,
    pair_scores,
    score_summary,
    verification_threshold,
)
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


def test_threshold_rule_is_the_gap_midpoint_when_scores_separate() -> None:
    same = torch.tensor([0.95, 0.9, 0.99, 0.92])
    diff = torch.tensor([0.1, -0.2, 0.7, 0.3])
    thr, how = verification_threshold(same, diff)
    assert thr == pytest.approx((0.9 + 0.7) / 2) and how.startswith("gap midpoint")
    # the EER point of separated scores is the lowest genuine score: the strictest cut
    assert equal_error_rate(same, diff)[1] == pytest.approx(0.9)


def test_threshold_rule_falls_back_to_the_eer_point_when_scores_overlap() -> None:
    same = torch.tensor([0.9, 0.8, 0.7, 0.3])
    diff = torch.tensor([0.1, 0.2, 0.4, 0.75])
    thr, how = verification_threshold(same, diff)
    assert thr == equal_error_rate(same, diff)[1] and how.startswith("EER point")
    with pytest.raises(ValueError, match="needs genuine and impostor scores"):
        verification_threshold(same, torch.tensor([]))


def test_identity_record_chooses_on_val_and_applies_to_test() -> None:
    g = torch.Generator().manual_seed(0)
    val = (0.9 + 0.05 * torch.rand(300, generator=g), 0.6 * torch.rand(5000, generator=g))
    test = (torch.tensor([0.7, 0.95, 0.97]), torch.tensor([0.8, 0.1, 0.2, 0.3]))
    rec = evaluate.identity_record({"val": val, "test": test})
    thr = (float(val[0].min()) + float(val[1].max())) / 2
    assert rec["threshold"] == pytest.approx(thr)
    rule = rec["threshold_rule"]
    assert rule["rule"] == THRESHOLD_RULE and rule["chosen_on"] == "val"
    assert (rule["lowest_genuine"], rule["highest_impostor"]) == (float(val[0].min()), float(val[1].max()))
    assert rec["val"]["far_at_val_threshold"] == 0 and rec["val"]["frr_at_val_threshold"] == 0
    assert rec["test"]["far_at_val_threshold"] == pytest.approx(1 / 4)  # 0.8 >= thr ~0.75
    assert rec["test"]["frr_at_val_threshold"] == pytest.approx(1 / 3)  # 0.7 < thr
    summary = score_summary(val[1])
    assert summary["n"] == 5000 and summary["max"] == pytest.approx(float(val[1].max()))
    assert summary["p99"] == pytest.approx(float(np.quantile(val[1].double().numpy(), 0.99)))


def test_shipped_identity_record_carries_the_rule_and_the_backend_uses_it(
    judges: tuple[AUDetector, IdentityModel],
) -> None:
    record = json.loads((backends.WEIGHTS_DIR / "identity_encoder.json").read_text())
    val = record["validation"]
    rule = val["threshold_rule"]
    assert rule["rule"] == THRESHOLD_RULE and rule["applied"].startswith("gap midpoint")
    assert (
        rule["lowest_genuine"]
        == val["val"]["genuine"]["min"]
        > rule["highest_impostor"]
        == val["val"]["impostor"]["max"]
    )
    midpoint = (rule["lowest_genuine"] + rule["highest_impostor"]) / 2
    assert record["threshold"] == val["threshold"] == pytest.approx(midpoint)
    assert val["val"]["n_same_pairs"] == val["val"]["genuine"]["n"] == 9000
    assert val["val"]["far_at_val_threshold"] == val["val"]["frr_at_val_threshold"] == 0
    _, ident = judges
    assert ident.threshold == record["threshold"] and ident.threshold_rule == THRESHOLD_RULE
    prov = ident.provenance()
    assert prov["threshold"] == record["threshold"] and prov["threshold_rule"] == THRESHOLD_RULE
    assert prov["threshold_scores"]["val"]["genuine_min"] == rule["lowest_genuine"]
    assert prov["threshold_scores"]["test"]["frr"] == val["test"]["frr_at_val_threshold"]


def test_recompute_rewrites_only_the_identity_numbers(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for f in ("identity_encoder.pt", "identity_encoder.json", probe.PROBE_FILE):
        shutil.copy(backends.WEIGHTS_DIR / f, tmp_path / f)
    before = json.loads((tmp_path / "identity_encoder.json").read_text())
    scores = {
        "val": (torch.tensor([0.9, 0.95]), torch.tensor([0.5, 0.1])),
        "test": (torch.tensor([0.8]), torch.tensor([0.2])),
    }
    monkeypatch.setattr(evaluate, "identity_scores", lambda model: scores)
    record = evaluate.recompute_identity_record(tmp_path, command="test")
    after = json.loads((tmp_path / "identity_encoder.json").read_text())
    assert after == record and after["threshold"] == pytest.approx(0.7)
    assert after["validation"]["recomputed_by"] == "test"
    assert {k: v for k, v in after.items() if k not in ("validation", "threshold")} == {
        k: v for k, v in before.items() if k not in ("validation", "threshold")
    }
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left
    (tmp_path / "identity_encoder.json").write_text(json.dumps({**before, "reference_code": "old"}))
    with pytest.raises(ValueError, match=r"identity_encoder\.json: the weights do not fit the current code"):
        evaluate.recompute_identity_record(tmp_path)


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

    monkeypatch.setattr(backends, "train_all", fake_train_all)
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
