"""`faceedit-bench report`: exit codes, interval rule and tolerances, refusals, missing editors, baseline update."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from faceedit_bench.cli import report as report_cli
from faceedit_bench.reports.regression import RegressionReport, Row, regression_report
from faceedit_bench.reports.results import MetricId
from faceedit_bench.reports.tolerances import Tolerances


def run_report(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    report_cli.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["report", *argv])
    return args.run(args)


def write_variant(run_dir: Path, out: Path, edit: Any) -> Path:
    data = json.loads((run_dir / "results.json").read_text())
    edit(data)
    out.write_text(json.dumps(data))
    return out


def test_self_comparison_passes(run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.md"
    assert run_report(str(run_dir), "--baseline", str(run_dir / "results.json"), "--out", str(out)) == 0
    text = out.read_text()
    assert "PASS" in text and "REGRESSION" not in text
    assert "| psnr " in text and "| stlpips-alex " in text
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].endswith("PASS: no regression beyond interval and tolerance, nothing missing")
    assert [line.split()[0] for line in printed[1:]] == ["baseline", "current", "rows:", "1", "full"]
    assert printed[-1] == f"  full report: {out}"
    assert (
        "- rule: a metric regresses when it is worse than the baseline by more than the baseline's 95%"
        in text
    )


def test_worse_beyond_tolerance_fails(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def worse(d: dict) -> None:
        d["editors"]["two-stage"]["metrics"]["psnr@exact"]["value"] = (
            25.12 - 0.8
        )  # tol 0.5 dB, higher is better

    cur = write_variant(run_dir, tmp_path / "cur.json", worse)
    assert run_report(str(cur), "--baseline", str(run_dir / "results.json")) == 1
    printed = capsys.readouterr().out
    assert "FAIL: 1 regression(s)" in printed
    # the interval's bad side (25.12 - 24.70 = 0.42) is narrower than the 0.5 dB floor
    assert (
        "REGRESSION two-stage psnr@exact: 25.12 -> 24.32 (change -0.8, allowed 0.5 (floor abs 0.5; 95% CI 0.42))"
        in printed
    )
    text = (tmp_path / "regression.md").read_text()  # default: beside CURRENT
    assert "FAIL: 1 regression" in text
    cells = [[c.strip() for c in line.split("|")[1:-1]] for line in text.splitlines() if line.startswith("|")]
    assert any(row[:6] == ["two-stage", "psnr", "exact", "25.12", "24.32", "-0.8"] for row in cells)


def test_the_baseline_interval_sets_the_allowance(run_dir: Path, tmp_path: Path) -> None:
    """two-stage AU MAE 0.35, 95% CI (0.31, 0.39): allowed 0.04 worse (the fixed tolerance alone is 0.02)."""

    def au_mae(value: float) -> RegressionReport:
        cur = write_variant(
            run_dir,
            tmp_path / "cur.json",
            lambda d: d["editors"]["two-stage"]["metrics"]["au_mae@aurig-ref"].update(value=value),
        )
        return regression_report(run_dir, cur)

    def row(report: RegressionReport) -> Row:
        return next(r for r in report.rows if (r.editor, r.metric) == ("two-stage", "au_mae"))

    inside = au_mae(0.38)  # beyond the fixed tolerance, inside the interval: passes
    assert row(inside).status == "ok" and inside.exit_code == 0
    assert (
        row(inside).tolerance == pytest.approx(0.04)
        and row(inside).tolerance_rule == "95% CI; floor abs 0.02, rel 5%"
    )
    beyond = au_mae(0.60)  # worse well beyond the interval: fails
    assert row(beyond).status == "REGRESSION" and beyond.exit_code == 1
    assert (
        "two-stage au_mae@aurig-ref: 0.35 -> 0.6 (change +0.25, allowed 0.04 (95% CI; floor" in beyond.short()
    )
    assert row(au_mae(0.32)).status == "ok"  # better, but inside the interval's lower side
    assert row(au_mae(0.30)).status == "improved"


def test_interval_sides_floor_and_fallback(run_dir: Path, tmp_path: Path) -> None:
    def skewed(d: dict) -> None:  # baseline intervals: one not around its value, one asymmetric
        m = d["editors"]
        m["ganimation"]["metrics"]["au_mae@aurig-ref"]["ci95"] = [0.30, 0.46]  # value 0.45
        m["warp-only"]["metrics"]["id_cos@aurig-ref"]["ci95"] = [0.86, 0.905]  # value 0.90

    def edit(d: dict) -> None:
        skewed(d)
        m = d["editors"]
        m["ganimation"]["metrics"]["au_mae@aurig-ref"]["value"] = 0.47  # CI side 0.01 < floor 0.0225
        m["identity"]["metrics"]["id_cos@aurig-ref"]["value"] = 0.995  # CI (1, 1): the 0.01 floor decides
        m["warp-only"]["metrics"]["id_cos@aurig-ref"]["value"] = 0.875  # lower side of the CI: 0.04
        m["oracle"]["metrics"]["id_cos@aurig-ref"]["value"] = 0.965  # CI (0.94, 0.96): upper side 0.01
        m["two-stage"]["metrics"]["fid@inception-v3-compat"]["value"] = 28.7 + 1.5  # no CI: 5% = 1.435

    base = write_variant(run_dir, tmp_path / "base.json", skewed)
    report = regression_report(base, write_variant(run_dir, tmp_path / "cur.json", edit))
    rows = {(r.editor, r.metric): r for r in report.rows}
    assert rows["ganimation", "au_mae"].status == "ok"
    assert rows["ganimation", "au_mae"].tolerance_rule == "floor abs 0.02, rel 5%; 95% CI 0.01"
    assert rows["identity", "id_cos"].status == "ok"
    assert rows["warp-only", "id_cos"].status == "ok"
    assert rows["warp-only", "id_cos"].tolerance == pytest.approx(0.04)
    assert rows["oracle", "id_cos"].status == "improved"  # 0.015 better: beyond the CI's upper side
    fid = rows["two-stage", "fid"]
    assert fid.status == "REGRESSION" and fid.tolerance_rule == "fixed abs 1, rel 5% (no interval)"
    assert "fixed abs 1, rel 5% (no interval)" in report.to_markdown()


def test_changed_paired_comparisons_are_notes(run_dir: Path, tmp_path: Path) -> None:
    def comparisons(better: str | None) -> Any:
        row = {
            "editor": "two-stage",
            "reference": "ganimation",
            "metric": "au_mae@aurig-ref",
            "better": better,
        }
        return lambda d: d.update(comparisons={"rows": [row, {**row, "metric": "au_mae_AU12@aurig-ref"}]})

    base = write_variant(run_dir, tmp_path / "base.json", comparisons("two-stage"))
    report = regression_report(base, write_variant(run_dir, tmp_path / "cur.json", comparisons(None)))
    assert report.exit_code == 0
    assert [n for n in report.notes if n.startswith("paired")] == [
        "paired comparison two-stage vs ganimation on au_mae@aurig-ref: two-stage significantly better in the "
        "baseline, no significant difference now"
    ]  # per-AU keys are not primary: no note


def test_direction_and_tolerance(run_dir: Path, tmp_path: Path) -> None:
    def edit(d: dict) -> None:
        m = d["editors"]
        m["two-stage"]["metrics"]["psnr@exact"]["value"] = 25.12 - 0.3  # within 0.5 dB
        m["ganimation"]["metrics"]["au_mae@aurig-ref"]["value"] = 0.30  # lower AU error: improved
        m["warp-only"]["metrics"]["fid@inception-v3-compat"]["value"] = 35.4 * 1.04  # within 5 %
        del m["warp-only"]["metrics"]["flow_epe@exact"]  # removed: with allow_missing listed, not a failure
        m["oracle"]["metrics"]["new_metric@exact"] = {
            "value": 1.0,
            "ci95": None,
            "n": 8,
            "backend": "exact",
            "higher_is_better": True,
        }

    cur = write_variant(run_dir, tmp_path / "cur.json", edit)
    report = regression_report(run_dir, cur, allow_missing=True)
    status = {(r.editor, r.metric): r.status for r in report.rows}
    assert status[("two-stage", "psnr")] == "ok"
    assert status[("ganimation", "au_mae")] == "improved"
    assert status[("warp-only", "fid")] == "ok"
    assert status[("warp-only", "flow_epe")] == "removed"
    assert status[("oracle", "new_metric")] == "added"
    assert report.exit_code == 0
    row = next(r for r in report.rows if (r.editor, r.metric) == ("warp-only", "fid"))
    assert row.tolerance == pytest.approx(35.4 * 0.05)
    strict = regression_report(run_dir, cur)
    assert [(r.editor, r.metric, r.status) for r in strict.missing] == [
        ("warp-only", "flow_epe", "MISSING metric")
    ]
    assert strict.exit_code == 1


def test_missing_editor_fails_unless_allowed(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def lose(d: dict) -> None:  # two-stage did not load, ganimation is gone from the file
        d["editors"]["two-stage"] = {
            "group": "two-stage",
            "status": "unavailable",
            "reason": "no checkpoint",
            "metrics": {},
        }
        del d["editors"]["ganimation"]

    cur = write_variant(run_dir, tmp_path / "cur.json", lose)
    assert run_report(str(cur), "--baseline", str(run_dir / "results.json")) == 1
    printed = capsys.readouterr().out
    assert "FAIL: 2 missing" in printed
    assert "MISSING editor two-stage (all metrics): unavailable: no checkpoint" in printed
    assert "MISSING editor ganimation (all metrics): absent from the file" in printed
    assert run_report(str(cur), "--baseline", str(run_dir / "results.json"), "--allow-missing") == 0
    assert "PASS" in capsys.readouterr().out
    assert "editor removed" in (tmp_path / "regression.md").read_text()


def test_missing_backend_fails(run_dir: Path, tmp_path: Path) -> None:
    def no_detector(d: dict) -> None:
        d["backends"]["au_detector"] = {"label": None, "rejected": "aurig-ref: weights not found"}

    report = regression_report(run_dir, write_variant(run_dir, tmp_path / "cur.json", no_detector))
    assert [(r.metric, r.backend, r.status, r.reason) for r in report.missing] == [
        ("backend au_detector", "aurig-ref", "MISSING backend", "aurig-ref: weights not found")
    ]


def test_stdout_names_at_most_ten_failures(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def worse(d: dict) -> None:
        for entry in d["editors"].values():
            for metric in entry["metrics"].values():
                metric["value"] += -50 if metric["higher_is_better"] else 50

    cur = write_variant(run_dir, tmp_path / "cur.json", worse)
    assert run_report(str(cur), "--baseline", str(run_dir / "results.json")) == 1
    printed = capsys.readouterr().out.splitlines()
    assert sum(line.startswith("  REGRESSION") for line in printed) == 10
    assert any(line.startswith("  ... and ") and " more (" in line for line in printed)
    assert len(printed) <= 17


def test_fid_worse_fails(run_dir: Path, tmp_path: Path) -> None:
    def edit(d: dict) -> None:
        d["editors"]["two-stage"]["metrics"]["fid@inception-v3-compat"]["value"] = (
            28.7 * 1.08
        )  # lower is better

    report = regression_report(run_dir, write_variant(run_dir, tmp_path / "cur.json", edit))
    assert [(r.editor, r.metric) for r in report.regressions] == [("two-stage", "fid")]


def test_mixed_backends_refused(run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def edit(d: dict) -> None:
        metrics = d["editors"]["ganimation"]["metrics"]
        entry = metrics.pop("fid@inception-v3-compat")
        metrics["fid@clean-fid"] = entry | {"backend": "clean-fid"}

    cur = write_variant(run_dir, tmp_path / "cur.json", edit)
    assert run_report(str(cur), "--baseline", str(run_dir / "results.json")) == 2
    err = capsys.readouterr().err
    assert "'fid'" in err and "inception-v3-compat" in err and "clean-fid" in err


def test_backend_provenance_notes_ignore_where_the_clone_lives(run_dir: Path, tmp_path: Path) -> None:
    def moved(d: dict) -> None:
        d["backends"]["au_detector"]["provenance"] = {"weights": "/a/clone/au.pt", "code_version": "1"}

    def elsewhere(d: dict) -> None:
        d["backends"]["au_detector"]["provenance"] = {"weights": "/other/place/au.pt", "code_version": "1"}

    def retrained(d: dict) -> None:
        d["backends"]["au_detector"]["provenance"] = {"weights": "/other/place/au.pt", "code_version": "2"}

    base = write_variant(run_dir, tmp_path / "base.json", moved)
    same = regression_report(base, write_variant(run_dir, tmp_path / "same.json", elsewhere))
    assert not any("provenance" in n for n in same.notes)
    changed = regression_report(base, write_variant(run_dir, tmp_path / "new.json", retrained))
    assert any("au_detector" in n and "code_version changed" in n for n in changed.notes)


def test_protocol_version_refused(run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cur = write_variant(run_dir, tmp_path / "cur.json", lambda d: d["protocol"].update(version=2))
    assert run_report(str(cur), "--baseline", str(run_dir / "results.json")) == 2
    assert "different protocols" in capsys.readouterr().err


def test_an_incomparable_run_replaces_the_baseline_only_when_forced(run_dir: Path, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    shutil.copy(run_dir / "results.json", baseline)
    cur = write_variant(run_dir, tmp_path / "cur.json", lambda d: d["protocol"].update(version=2))
    before = baseline.read_bytes()
    assert run_report(str(cur), "--baseline", str(baseline), "--update-baseline") == 2
    assert baseline.read_bytes() == before
    assert run_report(str(cur), "--baseline", str(baseline), "--update-baseline", "--force") == 0
    assert baseline.read_bytes() == cur.read_bytes()


def test_update_baseline(run_dir: Path, tmp_path: Path) -> None:
    baseline = tmp_path / "ci" / "baseline.json"
    baseline.parent.mkdir()
    shutil.copy(run_dir / "results.json", baseline)

    def worse(d: dict) -> None:
        d["editors"]["two-stage"]["metrics"]["au_mae@aurig-ref"]["value"] = 0.9

    cur = write_variant(run_dir, tmp_path / "cur.json", worse)
    assert run_report(str(cur), "--baseline", str(baseline)) == 1
    before = baseline.read_bytes()
    assert run_report(str(cur), "--baseline", str(baseline), "--update-baseline") == 1  # a failing run
    assert baseline.read_bytes() == before
    assert run_report(str(cur), "--baseline", str(baseline), "--update-baseline", "--force") == 0
    assert baseline.read_bytes() == cur.read_bytes()
    assert run_report(str(cur), "--baseline", str(baseline)) == 0
    fresh = tmp_path / "new" / "baseline.json"
    assert run_report(str(cur), "--baseline", str(fresh), "--update-baseline") == 0
    assert fresh.read_bytes() == cur.read_bytes()


def test_tolerances_file(tmp_path: Path) -> None:
    good = tmp_path / "tol.yaml"
    good.write_text("rules:\n  - {match: 'psnr@exact', abs: 2.0}\ndefault: {rel: 0.5}\n")
    tols = Tolerances.load(good)
    assert tols.for_metric(MetricId("psnr", "exact")).allowed(25.0) == 2.0
    assert tols.for_metric(MetricId("fid", "x")).allowed(30.0) == 15.0
    shipped = Tolerances.load()
    assert shipped.for_metric(MetricId("psnr_in_mask", "exact")).abs == 0.5
    assert shipped.for_metric(MetricId("au_mae_AU12", "aurig-ref")).rel == 0.10
    assert shipped.for_metric(MetricId("kid_std", "inception-v3-compat")).ignore
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - {match: 'psnr*', abs: -1}\n")
    with pytest.raises(ValueError, match=r"bad\.yaml: rules\[0\]: 'abs' must be a non-negative number"):
        Tolerances.load(bad)


def test_fewer_pairs_refused(run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cur = write_variant(run_dir, tmp_path / "cur.json", lambda d: d["protocol"].update(n_pairs_evaluated=4))
    base = write_variant(run_dir, tmp_path / "base.json", lambda d: d["protocol"].update(n_pairs_evaluated=8))
    assert run_report(str(cur), "--baseline", str(base)) == 2
    assert "'n_pairs_evaluated' differs" in capsys.readouterr().err


def test_console_script_dispatch(run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from faceedit_bench.cli.main import main

    out = str(tmp_path / "regression.md")
    assert main(["report", str(run_dir), "--baseline", str(run_dir / "results.json"), "--out", out]) == 0
    assert main(["report", str(run_dir), "--baseline", str(tmp_path / "none.json")]) == 2
    assert "no baseline file" in capsys.readouterr().err


def test_a_changed_sample_count_or_failure_count_fails_the_gate(run_dir: Path, tmp_path: Path) -> None:
    """Metrics equal to the baseline, but an editor lost pairs or gained failures: the gate fails."""

    def lost_pairs(d: dict) -> None:
        d["editors"]["two-stage"].setdefault("no_face", {})["n"] = 5

    base = write_variant(
        run_dir,
        tmp_path / "base.json",
        lambda d: d["editors"]["two-stage"].setdefault("no_face", {}).update(n=48),
    )
    cur = write_variant(run_dir, tmp_path / "cur.json", lost_pairs)
    assert run_report(str(cur), "--baseline", str(base)) == 1
    assert "SAMPLES CHANGED" in (tmp_path / "regression.md").read_text()

    def failed(d: dict) -> None:
        d["editors"]["two-stage"].setdefault("no_face", {})["n"] = 48
        d["editors"]["two-stage"]["failed_samples"] = [{"sample_id": "p0", "reason": "ValueError: x"}]

    cur = write_variant(run_dir, tmp_path / "cur.json", failed)
    assert run_report(str(cur), "--baseline", str(base)) == 1
    assert "failed samples" in (tmp_path / "regression.md").read_text()


def test_verdict_ranks_summary_regressions_first_by_size(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Fourteen per-AU rows just past their allowance and one FID far past it: FID comes first."""

    def edit(d: dict) -> None:
        d["headline"] = {"metric": "au_mae@aurig-ref", "definition": "x", "higher_is_better": False}
        for editor in ("ganimation", "two-stage", "warp-only"):
            for key, m in d["editors"][editor]["metrics"].items():
                if "_AU" in key:
                    m["value"] += 0.2  # interval +-0.05: a small regression each
        d["editors"]["two-stage"]["metrics"]["fid@inception-v3-compat"]["value"] = 117.9
        d["editors"]["warp-only"]["metrics"]["au_mae@aurig-ref"]["value"] = 0.8

    cur = write_variant(run_dir, tmp_path / "cur.json", edit)
    assert run_report(str(cur), "--baseline", str(run_dir / "results.json")) == 1
    failing = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  REGRESSION")]
    assert failing[0].startswith("  REGRESSION warp-only au_mae@aurig-ref")  # the headline first
    assert failing[1].startswith("  REGRESSION two-stage fid@inception-v3-compat")
    assert all("_AU" in line for line in failing[2:])


def test_verdict_says_when_the_system_behind_a_name_changed(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def edit(d: dict) -> None:
        d["editors"]["two-stage"]["describe"] = {"name": "two-stage", "checkpoint": "/elsewhere/other.pt"}

    cur = write_variant(run_dir, tmp_path / "cur.json", edit)
    run_report(str(cur), "--baseline", str(run_dir / "results.json"), "--out", str(tmp_path / "r.md"))
    out = capsys.readouterr().out
    assert 'system behind two-stage changed: checkpoint null -> "other.pt"' in out
    assert "system behind two-stage changed" in (tmp_path / "r.md").read_text()
    assert "system behind ganimation" not in out


def test_a_baseline_on_other_pairs_is_refused(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = write_variant(run_dir, tmp_path / "base.json", lambda d: d["protocol"].update(seed=2020))
    cur = write_variant(run_dir, tmp_path / "cur.json", lambda d: d["protocol"].update(seed=7))
    assert run_report(str(cur), "--baseline", str(base)) == 2
    assert "other pairs" in capsys.readouterr().err
    cur = write_variant(run_dir, tmp_path / "cur2.json", lambda d: d["protocol"].update(pair_set="sha256:0"))
    base = write_variant(
        run_dir, tmp_path / "base2.json", lambda d: d["protocol"].update(pair_set="sha256:1")
    )
    assert run_report(str(cur), "--baseline", str(base)) == 2
