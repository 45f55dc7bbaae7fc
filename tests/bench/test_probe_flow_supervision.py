"""bench/probe_flow_supervision.py: the motion-only photometric probe behind issue #11's flow EPE."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]


def _probe():
    spec = importlib.util.spec_from_file_location(
        "probe_flow_supervision", ROOT / "bench" / "probe_flow_supervision.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_untrained_motion_step_scores_exactly_zero_flow_and_training_moves_it():
    probe = _probe()
    frozen = list(probe.run(probe.parse_args(["--steps", "2", "--every", "1", "--pairs", "8", "--lr", "0"])))
    zero = frozen[0]["zero_flow"]
    assert zero["all"] > 0  # aurig-demo pairs move pixels
    # the motion head starts at the identity grid: with lr 0 it stays there, EPE = zero flow's
    assert [row["flow_epe"] for row in frozen[1:]] == [zero, zero]
    trained = list(
        probe.run(probe.parse_args(["--steps", "2", "--every", "2", "--pairs", "8", "--lr", "1e-2"]))
    )
    assert trained[-1]["step"] == 2 and trained[-1]["flow_epe"] != zero


def test_save_writes_loadable_motion_weights(tmp_path):
    probe = _probe()
    out = tmp_path / "motion.pt"
    rows = list(
        probe.run(probe.parse_args(["--steps", "1", "--every", "1", "--pairs", "4", "--save", str(out)]))
    )
    state = torch.load(out, weights_only=True)
    assert state["step"] == 1 and state["flow_epe"] == rows[-1]["flow_epe"]
    assert state["spec"]["use_texture"] is False and "head.weight" in state["motion"]
