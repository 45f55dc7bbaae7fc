"""The CLI as a user runs it: help, ls, compare end to end in a temp dir, clear errors."""

import json
import subprocess
import sys

import pytest

from faceedit_bench.cli.main import main


def test_help_explains_each_subcommand(capsys):
    for cmd in ("compare", "evaluate", "ls"):
        try:
            main([cmd, "--help"])
        except SystemExit as exit_:
            assert exit_.code == 0
        text = capsys.readouterr().out
        assert f"usage: faceedit-bench {cmd}" in text
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    text = capsys.readouterr().out
    assert "--protocol" in text and "results.json" in text and "torchrun" in text


def test_ls_json_lists_every_kind_with_backend_availability(capsys):
    assert main(["ls", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert {"editors", "datasets", "protocols", "metrics", "backends"} <= set(listing)
    assert listing["editors"]["oracle"]["group"] == "reference"
    for kind in ("au_detector", "identity", "fid_features", "lpips"):
        for name, info in listing["backends"][kind].items():
            assert isinstance(info["usable"], bool), name
            assert info["reason"], f"{kind}/{name} must say why (or from where)"


def test_compare_end_to_end_in_temp_dir(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["compare", "--protocol", "tiny", "--out", str(out), "--no-figures", "--no-progress"])
    assert code == 0
    assert (out / "results.json").exists() and (out / "samples.jsonl").exists()
    printed = capsys.readouterr().out
    assert "identity" in printed and "flow_epe@exact" in printed


def test_bad_protocol_is_a_clear_error_not_a_traceback(capsys):
    assert main(["compare", "--protocol", "aurig-smok"]) == 2
    err = capsys.readouterr().err
    assert "unknown protocol 'aurig-smok'" in err and "Did you mean 'aurig-smoke'" in err


def test_console_script_entry_point_runs():
    proc = subprocess.run(
        [sys.executable, "-m", "faceedit_bench.cli.main", "--version"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and "faceedit-bench" in proc.stdout
