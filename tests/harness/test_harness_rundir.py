"""Run folders, judge guards and provenance: runs never overwrite each other, judges stay in their domain."""

import dataclasses
import subprocess

import pytest

from faceedit_bench.cli.main import main
from faceedit_bench.config import ConfigError
from faceedit_bench.harness.backends import BackendChoice
from faceedit_bench.harness.judges import check_judge_domains
from faceedit_bench.harness.provenance import git_hash, source_checkout_commit
from faceedit_bench.harness.results import load_results
from faceedit_bench.protocols import AURIG_SMOKE, VIDEO_REENACT

FLAGS = ["--no-figures", "--no-progress"]


def test_compare_and_evaluate_default_folders_never_collide(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["compare", "--protocol", "tiny", *FLAGS]) == 0
    assert main(["evaluate", "--editor", "identity", "--protocol", "tiny", *FLAGS]) == 0
    compare = load_results(tmp_path / "runs" / "tiny" / "results.json")
    evaluate = load_results(tmp_path / "runs" / "evaluate-tiny-identity" / "results.json")
    assert list(compare["editors"]) == ["identity", "oracle"] and compare["config"]["command"] == "compare"
    assert list(evaluate["editors"]) == ["identity"] and evaluate["config"]["command"] == "evaluate"

    assert main(["evaluate", "--editor", "identity", "--protocol", "tiny", "--out", "runs/tiny", *FLAGS]) == 2
    assert "runs/tiny: holds a `compare` run" in capsys.readouterr().err
    assert main(["evaluate", "--editor", "oracle", "--protocol", "tiny", "--out", "runs/evaluate-tiny-identity",
                 *FLAGS]) == 2  # fmt: skip
    assert "holds an evaluation of identity, not oracle" in capsys.readouterr().err
    assert main(["compare", "--protocol", "tiny", "--out", "runs/evaluate-tiny-identity", *FLAGS]) == 2
    assert main(["evaluate", "--editor", "identity", "--protocol", "tiny", *FLAGS]) == 0  # its own: re-run


def _choice(kind, name):
    return BackendChoice(kind, name, name, "test")


def test_aurig_only_judges_refuse_other_data_and_warn_when_forced():
    choices = {"au_detector": _choice("au_detector", "aurig-ref"), "identity": _choice("identity", "dlib")}
    assert check_judge_domains(AURIG_SMOKE, choices, {}) == {}
    with pytest.raises(
        ConfigError, match="au_detector backend 'aurig-ref' only knows aurig faces, but this run"
    ):
        check_judge_domains(VIDEO_REENACT, choices, {})
    manifest = dataclasses.replace(AURIG_SMOKE, dataset="manifest")
    with pytest.raises(ConfigError, match="scores manifest data"):
        check_judge_domains(manifest, choices, {})
    warned = check_judge_domains(manifest, choices, {"au_detector": "aurig-ref"})
    assert "not meaningful" in warned["au_detector"]


def test_commit_is_this_packages_not_the_callers(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "pkg").mkdir()
    assert source_checkout_commit(tmp_path / "pkg") is None  # a user's repository around an install
    assert git_hash() != "unknown"


def test_merge_puts_an_evaluate_beside_a_compare_and_refuses_other_protocols(tmp_path, capsys):
    compare, single = tmp_path / "c", tmp_path / "e"
    assert main(["compare", "--protocol", "tiny", "--out", str(compare), *FLAGS]) == 0
    assert main(["evaluate", "--editor", "identity", "--protocol", "tiny", "--out", str(single), *FLAGS]) == 0
    merged_dir = tmp_path / "m"
    assert main(["merge", str(compare), str(single / "results.json"), "--out", str(merged_dir)]) == 0
    merged = load_results(merged_dir / "results.json")
    assert list(merged["editors"]) == ["identity", "oracle"] and merged["config"]["command"] == "merge"
    assert (merged_dir / "tables" / "summary.csv").exists()
    assert len((merged_dir / "samples.jsonl").read_text().splitlines()) == 20
    cut = tmp_path / "cut"
    assert main(["compare", "--protocol", "tiny", "--n-pairs", "4", "--out", str(cut), *FLAGS]) == 0
    assert main(["merge", str(compare), str(cut), "--out", str(tmp_path / "m2")]) == 2
    assert "cannot merge" in capsys.readouterr().err
