"""compare refuses competing editors of different supervision regimes unless asked, and says so."""

from __future__ import annotations

import json

import pytest

from faceedit_bench.config import ConfigError, build_config
from faceedit_bench.harness.inputs.config import CompareConfig
from faceedit_bench.jobs.compare import run_compare
from faceedit_bench.reports.stats_tables import supervision_notes


def _config(tmp_path, editors, **extra):
    return build_config(
        CompareConfig, protocol="aurig-smoke", editors=editors, n_pairs=4, out=tmp_path / "run",
        device="cpu", figures=False, html=False, progress=False, judge_audit=False, **extra,
    )  # fmt: skip


def test_mixed_regimes_are_refused_before_anything_runs(tmp_path):
    with pytest.raises(
        ConfigError, match=r"paired: two-stage; unpaired: ganimation.*--allow-mixed-supervision"
    ):
        run_compare(_config(tmp_path, ["identity", "two-stage", "ganimation"]))
    assert not (tmp_path / "run" / "results.json").exists()


def test_one_regime_runs_and_records_it(tmp_path):
    run_compare(_config(tmp_path, ["identity", "ganimation", "texture-only"]))
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["supervision"]["mixed"] is False
    assert results["supervision"]["regimes"] == {
        "identity": "none",
        "ganimation": "unpaired",
        "texture-only": "unpaired",
    }
    assert results["editors"]["ganimation"]["supervision"] == "unpaired"
    summary = (tmp_path / "run" / "tables" / "summary.md").read_text()
    assert "supervision (paired = same-person image pairs seen in training" in summary
    assert "MIXED" not in summary


def test_allowed_mixed_regimes_are_said_in_every_table_format(tmp_path):
    run_compare(_config(tmp_path, ["identity", "two-stage", "ganimation"], allow_mixed_supervision=True))
    run = tmp_path / "run"
    results = json.loads((run / "results.json").read_text())
    assert results["supervision"]["mixed"] is True
    for name in ("summary.md", "summary.tex", "comparisons.md"):
        assert "MIXED supervision" in (run / "tables" / name).read_text(), name


def test_notes_list_only_the_shown_editors():
    results = {"supervision": {"regimes": {"a": "paired", "b": "unpaired", "id": "none"}, "mixed": False}}
    (line,) = supervision_notes(results, ["a", "id"])
    assert line.endswith("paired (a); none (id)")
