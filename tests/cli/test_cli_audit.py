"""``faceedit-bench audit``: a small table on the terminal and the same block as JSON."""

import json

from faceedit_bench.cli.main import main


def test_audit_prints_a_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "audit.json"
    argv = ["audit", "--protocol", "aurig-smoke", "--n-sources", "3", "--steps", "3", "--budgets", "1", "4"]
    assert main([*argv, "--device", "cpu", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "aurig-robust (au_detector): white-box PGD, first 3 of 48 pairs, 3 steps" in printed
    assert "aurig-gn (au_detector_2): white-box PGD" in printed
    assert "±1/255 attack" in printed and "±4/255 attack" in printed and "unchanged sources" in printed
    data = json.loads(out.read_text())
    assert data["protocol"] == "aurig-smoke"
    block = data["judge_audit"]["aurig-robust"]
    assert [row["eps_255"] for row in block["budgets"]] == [1, 4] and block["n_sources"] == 3


def test_audit_refuses_a_bad_budget(capsys):
    assert main(["audit", "--protocol", "aurig-smoke", "--budgets", "0"]) == 2
    assert "--budgets" in capsys.readouterr().err
