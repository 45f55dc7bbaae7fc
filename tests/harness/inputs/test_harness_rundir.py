"""Run folders, judge guards and provenance: runs never overwrite each other, judges stay in their domain."""

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from faceedit_bench.cli.main import main
from faceedit_bench.config import ConfigError
from faceedit_bench.harness.inputs.backends import BackendChoice
from faceedit_bench.harness.inputs.judges import check_judge_domains
from faceedit_bench.harness.inputs.rundir import default_run_dir, folder_lock
from faceedit_bench.harness.outputs.provenance import git_hash, source_checkout_commit
from faceedit_bench.harness.outputs.results import load_results
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
    assert "editors identity (this run: oracle)" in capsys.readouterr().err
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


def _files(folder):
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_another_run_is_refused_naming_what_differs_and_overwrite_removes_its_files(tmp_path, capsys):
    out = tmp_path / "run"
    compare = ["compare", "--protocol", "tiny", "--out", str(out), *FLAGS]
    assert main([*compare, "--no-html"]) == 0  # identity and oracle: a comparisons table
    assert main(["html", str(out)]) == 0  # written on the run afterwards: the run's file too
    first = _files(out)
    assert {"tables/comparisons.md", "report.html", "artifacts/qualitative.npz"} <= first
    (out / "notes.txt").write_text("mine")  # not a run's file: never removed
    capsys.readouterr()

    assert main([*compare, "--editors", "identity"]) == 2
    err = capsys.readouterr().err
    assert f"{out}: holds a `compare` run" in err and "editors identity, oracle (this run: identity)" in err
    assert main([*compare, "--n-pairs", "4", "--no-html"]) == 2
    assert "--n-pairs unset (this run: 4)" in capsys.readouterr().err
    assert _files(out) == first | {"notes.txt", ".run.json", ".lock"}  # refused runs touched nothing

    assert main([*compare, "--editors", "identity", "--no-html", "--overwrite"]) == 0
    assert "--overwrite: removed the" in capsys.readouterr().out
    now = _files(out)
    assert not {"tables/comparisons.md", "report.html"} & now  # stale: gone
    assert "notes.txt" in now and list(load_results(out / "results.json")["editors"]) == ["identity"]
    record = json.loads((out / ".run.json").read_text())
    assert set(record["outputs"]) == now - {"notes.txt", ".run.json", ".lock"}
    assert record["identity"]["editors"] == ["identity"]


def test_a_refresh_of_the_same_run_removes_what_it_no_longer_writes(tmp_path):
    out = tmp_path / "run"
    run = ["evaluate", "--editor", "identity", "--protocol", "tiny", "--out", str(out), *FLAGS]
    assert main(run) == 0 and (out / "report.html").exists()
    assert main([*run, "--no-html", "--no-judge-audit"]) == 0  # how it runs, not what it measures
    assert not (out / "report.html").exists() and not (out / "artifacts" / "browser.npz").exists()
    assert (out / "results.json").exists() and (out / "tables" / "summary.md").exists()


def test_a_second_run_into_a_locked_folder_fails_at_once_naming_the_holder(tmp_path, capsys):
    out = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from faceedit_bench.harness.inputs.rundir import folder_lock\n"
         "with folder_lock(sys.argv[1]):\n    print('locked', flush=True); sys.stdin.read()", str(out)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert main(["compare", "--protocol", "tiny", "--out", str(out), *FLAGS]) == 2
        err = capsys.readouterr().err
        assert f"{out}: another run (pid {holder.pid}) is writing to this folder" in err
    finally:
        holder.communicate("", timeout=30)
    assert not (out / "results.json").exists()
    with folder_lock(out):  # in this process too (flock: one lock per open file)
        assert main(["compare", "--protocol", "tiny", "--out", str(out), *FLAGS]) == 2
        assert f"(pid {os.getpid()})" in capsys.readouterr().err
    assert main(["compare", "--protocol", "tiny", "--out", str(out), *FLAGS]) == 0  # released


def test_default_run_folder_never_leaves_runs():
    for protocol, editor in (
        ("../../x", None),
        ("a/../../b", "c/../../d"),
        ("/etc", None),
        (".hidden", None),
    ):
        for command in ("compare", "evaluate"):
            path = default_run_dir(protocol, command, editor)
            assert path.parent == Path("runs") and not path.name.startswith(".") and "/" not in path.name
    assert default_run_dir("tiny", "evaluate", "identity") == Path("runs/evaluate-tiny-identity")
    with pytest.raises(ConfigError, match="cannot name a folder under runs/"):
        default_run_dir("..", "compare")
