"""The whole compare pipeline on the tiny protocol (exact ground truth, closed-form bounds)."""

import json
import math

import pytest
import torch

from faceedit_bench.api.editor import Editor, EditOutput
from faceedit_bench.config import ConfigError, build_config
from faceedit_bench.harness.inputs.config import CompareConfig
from faceedit_bench.harness.outputs.results import SCHEMA, ResultsError, load_results, validate_results
from faceedit_bench.jobs.compare import run_compare


def _run(tmp_path, **kw):
    cfg = build_config(
        CompareConfig, protocol="tiny", out=tmp_path / "run", progress=False, figures=False, **kw
    )
    return run_compare(cfg)


def test_compare_writes_schema_and_closed_form_bounds(tmp_path):
    out = _run(tmp_path)
    data = load_results(out / "results.json")
    assert data["schema"] == SCHEMA
    assert data["protocol"]["name"] == "tiny" and data["protocol"]["version"] == 1
    assert {"config", "versions", "git", "seed"} <= set(data)
    ident, oracle = data["editors"]["identity"]["metrics"], data["editors"]["oracle"]["metrics"]
    # identity shows zero motion where the truth is a 1-pixel shift: EPE is exactly 1 px
    assert ident["flow_epe@exact"]["value"] == pytest.approx(1.0, abs=1e-4)
    assert oracle["flow_epe@exact"]["value"] == pytest.approx(0.0, abs=1e-6)
    assert oracle["ssim@exact"]["value"] == pytest.approx(1.0, abs=1e-6)
    assert ident["ssim@exact"]["value"] < 0.999
    for metrics in (ident, oracle):
        for key, m in metrics.items():
            assert key.endswith("@" + m["backend"])
            assert m["n"] + m["skipped"] == 10
            if m["ci95"] is not None:
                lo, hi = m["ci95"]
                assert lo <= m["value"] + 1e-9 and m["value"] <= hi + 1e-9
    lines = (out / "samples.jsonl").read_text().splitlines()
    assert len(lines) == 20
    first = json.loads(lines[0])
    assert {"editor", "sample_id", "identity_id", "values"} <= set(first)
    assert not (out / ".partial").exists()
    assert (out / "artifacts" / "qualitative.npz").exists()


class _CrashingEditor(Editor):
    """Edits like identity but dies (like a killed process) on its n-th batch."""

    calls = 0

    def __init__(self, crash_at: int) -> None:
        self.crash_at = crash_at

    def edit(self, images, target_aus):
        type(self).calls += 1
        if type(self).calls == self.crash_at:
            raise KeyboardInterrupt
        return EditOutput(images=images.flip(-1))

    def describe(self):
        return {"class": "crashing-test-editor"}


def test_killed_run_resumes_to_identical_results(tmp_path, monkeypatch):
    from faceedit_bench.jobs import compare as compare_mod

    def fake_loader(editor_names, checkpoints, resolution, device, has_gt, **_):
        return {"flip": _CrashingEditor(crash_at=crash_at)}, {}

    monkeypatch.setattr(compare_mod, "load_editors", fake_loader)
    monkeypatch.setattr(
        "faceedit_bench.harness.evaluation.resume.CHECKPOINT_EVERY_S", 0.0
    )  # save after every batch
    crash_at = 10**9
    full = _run(tmp_path / "full")
    expected = load_results(full / "results.json")["editors"]["flip"]["metrics"]

    _CrashingEditor.calls = 0
    crash_at = 2
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path / "resumed")
    partial = tmp_path / "resumed" / "run" / ".partial"
    assert partial.exists() and not (tmp_path / "resumed" / "run" / "results.json").exists()
    with pytest.raises(ConfigError, match=r"run: holds a `compare` run .*--n-pairs unset \(this run: 4\)"):
        _run(tmp_path / "resumed", n_pairs=4)  # another run: refused, the killed one's state kept
    assert partial.exists()
    crash_at = 10**9
    resumed = _run(tmp_path / "resumed")
    got = load_results(resumed / "results.json")["editors"]["flip"]["metrics"]
    assert got.keys() == expected.keys()
    for key in got:
        assert got[key]["value"] == pytest.approx(expected[key]["value"], rel=1e-12)
        assert got[key]["ci95"] == pytest.approx(expected[key]["ci95"], rel=1e-12)


def test_a_subset_is_marked_in_results_tables_and_report(tmp_path, capsys):
    out = _run(tmp_path, n_pairs=4)
    data = load_results(out / "results.json")
    assert data["protocol"]["subset"] == {"n": 4, "of": 10} and data["protocol"]["n_pairs_evaluated"] == 4
    assert (
        (out / "tables" / "summary.md").read_text().startswith("**tiny v1 (subset: 4 of 10 pairs): summary**")
    )
    caption = (out / "tables" / "summary.tex").read_text().split("\\caption{", 1)[1]
    assert caption.startswith("Editors compared on tiny v1, subset: 4 of 10 ")
    assert "<strong>subset: 4 of 10 pairs</strong>" in (out / "report.html").read_text()

    full = _run(tmp_path / "more", n_pairs=50)  # more than there are: all 10, recorded as all
    assert "--n-pairs 50 is more than the 10 pairs there are" in capsys.readouterr().out
    data = load_results(full / "results.json")
    assert "subset" not in data["protocol"] and data["protocol"]["n_pairs_evaluated"] == 10
    assert data["config"]["n_pairs"] is None
    assert "subset" not in (full / "tables" / "summary.md").read_text()


def test_a_run_that_fails_before_writing_anything_does_not_claim_the_folder(tmp_path, monkeypatch):
    from faceedit_bench.jobs import compare as compare_mod

    with monkeypatch.context() as m:
        m.setattr(compare_mod, "load_editors", lambda *a, **k: ({}, {"broken": "cannot load"}))
        with pytest.raises(ConfigError, match="no editor could be loaded"):
            _run(tmp_path, n_pairs=4)
    assert not (tmp_path / "run" / ".run.json").exists()
    out = _run(tmp_path)  # other editors and options: not refused because of the failed run
    assert load_results(out / "results.json")["protocol"]["n_pairs_evaluated"] == 10


def test_validate_results_names_the_problem():
    with pytest.raises(ResultsError, match="missing top-level"):
        validate_results({"schema": SCHEMA}, "x.json")
    good = {
        "schema": SCHEMA, "protocol": {"name": "p", "version": 1}, "config": {}, "versions": {},
        "git": "g", "seed": 0,
        "editors": {"e": {"metrics": {"psnr@exact": {"value": 1.0, "ci95": None, "n": 1, "backend": "exact", "higher_is_better": True}}}},
    }  # fmt: skip
    validate_results(good)
    bad = json.loads(json.dumps(good))
    bad["editors"]["e"]["metrics"]["psnr@other"] = bad["editors"]["e"]["metrics"].pop("psnr@exact")
    with pytest.raises(ResultsError, match="must end with '@exact'"):
        validate_results(bad, "x.json")


def test_unknown_editor_and_missing_ground_truth_are_reported(tmp_path):
    from faceedit_bench.harness.inputs.editors import load_editors

    editors, unavailable = load_editors(["identity", "oracle"], {}, 16, "cpu", has_ground_truth=False)
    assert list(editors) == ["identity"]
    assert "ground-truth" in unavailable["oracle"]
    assert math.isfinite(torch.tensor(1.0).item())


def test_sweeps_render_the_true_edit_on_au_rig():
    from faceedit_bench.aurig.dataset import AuRigDataset
    from faceedit_bench.editors.reference import IdentityEditor
    from faceedit_bench.harness.outputs.sweeps import SWEEP_AUS, SWEEP_STEPS, run_sweeps

    pairs = AuRigDataset("test", 32).make_pairs(4, seed=0)
    out = run_sweeps(pairs, {"identity": IdentityEditor()}, "cpu")
    truth = out[f"truth__{SWEEP_AUS[0]}"]
    assert truth.shape == (2, SWEEP_STEPS, 3, 32, 32) and truth.dtype.name == "uint8"
    # intensity 0 and 5 of the swept AU are different faces; the unedited editor repeats its source
    assert (truth[:, 0].astype(int) - truth[:, -1]).__abs__().max() > 40
    assert (out[f"edited__identity__{SWEEP_AUS[0]}"][:, 0] == out["source"]).all()
