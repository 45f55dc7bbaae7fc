"""Sharded evaluation under torchrun (2 gloo processes) equals one process."""

import os
import subprocess
import sys

import pytest

from faceedit_bench.config import build_config
from faceedit_bench.harness.inputs.config import CompareConfig
from faceedit_bench.harness.outputs.results import load_results
from faceedit_bench.jobs.compare import run_compare

CHILD = """
import faceedit_bench.testing
from faceedit_bench.config import build_config
from faceedit_bench.jobs.compare import run_compare
from faceedit_bench.harness.inputs.config import CompareConfig
import sys, torch
torch.set_num_threads(1)
run_compare(build_config(CompareConfig, protocol="tiny", out=sys.argv[1], progress=False, figures=False, device="cpu"))
"""


def test_two_gloo_processes_match_one(tmp_path):
    single = run_compare(
        build_config(CompareConfig, protocol="tiny", out=tmp_path / "one", progress=False, figures=False)
    )
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        "--master_port=29517",
        str(script),
        str(tmp_path / "two"),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    one = load_results(single / "results.json")["editors"]
    two = load_results(tmp_path / "two" / "results.json")["editors"]
    assert one.keys() == two.keys()
    for editor in one:
        m1, m2 = one[editor]["metrics"], two[editor]["metrics"]
        assert m1.keys() == m2.keys()
        for key in m1:
            assert m2[key]["n"] == m1[key]["n"]
            assert m2[key]["value"] == pytest.approx(m1[key]["value"], rel=1e-9, abs=1e-12)
            assert m2[key]["ci95"] == pytest.approx(m1[key]["ci95"], rel=1e-9, abs=1e-12)
    assert (single / "samples.jsonl").read_text() == (tmp_path / "two" / "samples.jsonl").read_text()
