"""Tables built from the fixture run: values, intervals, best-marking, backends in headers."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from faceedit_bench.reports.labels import decimals_for, format_cell, metric_label
from faceedit_bench.reports.results import MetricId, ResultsError
from faceedit_bench.reports.tables import (
    ablation_table,
    build_summary,
    load_results,
    per_au_table,
    summary_table,
    write_tables,
)


@pytest.fixture(scope="module")
def results(run_dir: Path) -> dict:
    return load_results(run_dir)


def test_summary_rows_and_headers(results: dict) -> None:
    df = summary_table(results)
    assert list(df.index) == [
        "identity",
        "oracle",
        "ganimation",
        "two-stage",
        "warp-only",
    ]  # not: no-tv (unavailable)
    assert df.loc["identity", "group"] == "reference (bound)"
    assert df.loc["oracle", "group"] == "reference (bound)"
    assert "AU MAE ↓ [aurig-ref]" in df.columns
    assert "PSNR ↑ [exact]" in df.columns
    # one key, two backends -> two columns, never one
    assert "LPIPS target ↓ [lpips-alex]" in df.columns
    assert "ST-LPIPS target ↓ [stlpips-alex]" in df.columns
    # non-primary keys and per-AU keys stay out of the summary
    assert not any("in mask" in c or "AU12" in c for c in df.columns)


def test_summary_values_intervals_and_best(results: dict) -> None:
    df = summary_table(results)
    au, idc, psnr, fid = (
        "AU MAE ↓ [aurig-ref]",
        "ID cos ↑ [aurig-ref]",
        "PSNR ↑ [exact]",
        "FID ↓ [inception-v3-compat]",
    )
    # lower is better: two-stage wins; oracle (0.10) is a reference bound, never "best"
    assert df.loc["two-stage", au] == "**0.350 ± 0.040**"
    assert df.loc["oracle", au] == "0.100 ± 0.020"
    assert df.loc["ganimation", au] == "0.450 ± 0.050"
    # higher is better: warp-only wins; identity's 1.0 is ignored
    assert df.loc["warp-only", idc] == "**0.900 ± 0.010**"
    assert df.loc["identity", idc] == "1.000 ± 0.000"
    assert df.loc["two-stage", psnr] == "**25.12 ± 0.42**"
    assert df.loc["oracle", psnr] == "60.00"  # no interval -> no ±
    assert df.loc["two-stage", fid] == "**28.7**"
    assert df.loc["oracle", fid] == "–"  # missing metric
    # the only competing editor in its column: nothing to beat, never bold
    assert df.loc["warp-only", "ST-LPIPS target ↓ [stlpips-alex]"] == "0.220 ± 0.010"


def test_summary_selected_keys(results: dict) -> None:
    df = summary_table(results, keys=["lpips_target", "psnr@exact"])
    assert list(df.columns) == [
        "group",
        "LPIPS target ↓ [lpips-alex]",
        "ST-LPIPS target ↓ [stlpips-alex]",
        "PSNR ↑ [exact]",
    ]
    with pytest.raises(ValueError, match="no metric 'nope'"):
        summary_table(results, keys=["nope"])


def test_ablation_rows_and_best(results: dict) -> None:
    df = ablation_table(results)
    assert list(df.index) == ["two-stage", "warp-only", "ganimation"]
    assert df.loc["ganimation", "group"] == "baseline (for reference)"
    assert df.loc["two-stage", "AU MAE ↓ [aurig-ref]"].startswith("**")
    assert df.loc["ganimation", "FID ↓ [inception-v3-compat]"] == "31.2"
    # ganimation (24.31) is not a candidate; warp-only (23.0) loses to two-stage (25.12)
    assert df.loc["two-stage", "PSNR ↑ [exact]"] == "**25.12 ± 0.42**"
    # among two-stage variants only two-stage reports lpips-alex: one candidate, no bold
    assert df.loc["two-stage", "LPIPS target ↓ [lpips-alex]"] == "0.180 ± 0.010"


def test_per_au_table(results: dict) -> None:
    df = per_au_table(results)
    assert [c for c in df.columns if c != "group"][:3] == ["AU01", "AU02", "AU04"]
    assert len(df.columns) == 18
    assert df.loc["ganimation", "AU04"] == "0.450 ± 0.050"
    assert df.loc["two-stage", "AU04"] == "**0.350 ± 0.050**"
    assert not df.loc["oracle", "AU04"].startswith("**")
    assert "[aurig-ref]" in df.columns.name
    with pytest.raises(ValueError, match="known: au_mae@aurig-ref"):
        per_au_table(results, "au_mse@aurig-ref")


def test_write_tables(run_dir: Path, tmp_path: Path) -> None:
    paths = write_tables(run_dir, tmp_path)
    names = sorted(p.name for p in paths)
    for stem in ("summary", "ablation", "per_au__au_mae__aurig-ref"):
        assert {f"{stem}.csv", f"{stem}.md", f"{stem}.tex"} <= set(names)
    raw = pd.read_csv(tmp_path / "summary.csv")
    row = raw[(raw.editor == "ganimation") & (raw.metric == "psnr@exact")].iloc[0]
    assert (row.value, row.ci_lo, row.ci_hi, row.n, row.backend) == (24.31, 23.86, 24.76, 8, "exact")
    assert bool(raw[(raw.editor == "two-stage") & (raw.metric == "psnr@exact")].iloc[0].best)
    assert set(raw[raw.key == "lpips_target"].backend) == {"lpips-alex", "stlpips-alex"}
    tex = (tmp_path / "summary.tex").read_text()
    assert r"\toprule" in tex and r"\bottomrule" in tex
    assert r"\bfseries 0.350 $\pm$ 0.040" in tex
    assert r"1.200 $\pm$ 0.100" in tex and r"\bfseries 1.200" not in tex
    assert "[stlpips-alex]" in tex
    per_au = (tmp_path / "per_au__au_mae__aurig-ref.tex").read_text()  # transposed: AUs are rows
    assert " & identity (ref.) & oracle (ref.) & ganimation & two-stage & warp-only \\\\" in per_au
    assert r"AU01 & 0.600 $\pm$ 0.050 & 0.050 $\pm$ 0.050 & 0.225 $\pm$ 0.050 & \bfseries 0.175" in per_au
    md = (tmp_path / "summary.md").read_text()
    assert "| two-stage " in md and "**0.350 ± 0.040**" in md
    assert "- identity, oracle: shown for reference" in md
    assert "- not in the table: two-stage-no-tv (unavailable: no checkpoint)" in md


def test_load_results_errors(tmp_path: Path, run_dir: Path) -> None:
    with pytest.raises(ResultsError, match="no such results file"):
        load_results(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "other"}')
    with pytest.raises(ResultsError, match=r"bad\.json: schema is 'other'"):
        load_results(bad)
    data = json.loads((run_dir / "results.json").read_text())
    data["editors"]["ganimation"]["metrics"]["psnr@exact"]["backend"] = "approx"
    bad.write_text(json.dumps(data))
    with pytest.raises(ResultsError, match=r"bad\.json: .*'psnr@exact' must end with '@approx'"):
        load_results(bad)
    data["editors"]["ganimation"]["metrics"]["psnr@exact"]["backend"] = "exact"
    data["editors"]["ganimation"]["group"] = "sota"
    bad.write_text(json.dumps(data))
    with pytest.raises(ResultsError, match=r"bad\.json: editors\['ganimation'\]\.group is 'sota'"):
        load_results(bad)
    data["editors"]["ganimation"]["group"] = "baseline"
    data["editors"]["ganimation"]["metrics"]["psnr@exact"]["ci95"] = [1.0]
    bad.write_text(json.dumps(data))
    with pytest.raises(ResultsError, match=r"ci95 must be null or \[low, high\]"):
        load_results(bad)


def test_labels_and_formatting() -> None:
    assert metric_label(MetricId("lpips_target", "stlpips-alex"), False) == "ST-LPIPS target ↓ [stlpips-alex]"
    assert metric_label(MetricId("au_mae_AU12", "aurig-ref"), False, backend=False) == "AU MAE AU12 ↓"
    assert decimals_for([0.41, 0.5], [0.031, 0.04]) == 3
    assert decimals_for([30.1], [2.1]) == 1
    assert decimals_for([24.3, 25.0], []) == 1
    assert format_cell(float("nan"), 0.1, 2) == "–"
    assert format_cell(1.0, float("nan"), 2) == "1.00"
    assert format_cell(-8.6e-05, float("nan"), 1) == "0.0"


def test_build_summary_best_mask(results: dict) -> None:
    table = build_summary(results)
    assert table.best.loc[:, "au_mae@aurig-ref"].tolist() == [False, False, False, True, False]
    assert not table.best.loc[["identity", "oracle"]].to_numpy().any()


def test_pipe_table_fallback() -> None:
    from faceedit_bench.reports.markdown import _pipe_table

    df = pd.DataFrame({"name": ["a|b", "c"], "x": [1.5, 10.0]}, index=pd.Index(["r1", "r2"], name="row"))
    lines = _pipe_table(df, index=True).splitlines()
    assert lines[0] == "| row | name |    x |"
    assert lines[1] == "|-----|------|-----:|"
    assert lines[2] == "| r1  | a\\|b |  1.5 |"
    assert len(lines) == 4


def test_ties_and_lone_competitors_are_never_bold(results: dict) -> None:
    import copy

    data = copy.deepcopy(results)
    for editor in ("ganimation", "two-stage", "warp-only"):  # ID cos 0.9 for three editors
        data["editors"][editor]["metrics"]["id_cos@aurig-ref"]["value"] = 0.9
    table = build_summary(data)
    assert not table.best["id_cos@aurig-ref"].any()
    assert not table.best["lpips_target@stlpips-alex"].any()  # warp-only alone competes there
