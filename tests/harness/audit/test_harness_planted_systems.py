"""Planted wrong ways to a headline number: each must lose to leaving the face unchanged.

An invisible attack on the default AU-rig judge, a unit bug, a blurred half face (AU-rig),
and a grey lower face on real video frames (slow; run by a CI step). Each is scored beside
``identity`` on the same pairs; the headline (joint edit success) must not beat it, and the
AU error must not be reported better under both judges.
"""

from __future__ import annotations

import json

import pytest

from faceedit_bench.api.editor import Editor
from faceedit_bench.config import build_config
from faceedit_bench.harness.inputs.config import CompareConfig
from faceedit_bench.jobs.compare import run_compare
from faceedit_bench.planted import BlurLowerHalf, GreyLowerHalf, PGDOnTheJudge, Times255

N_PAIRS = 16


def _run(tmp_path, protocol: str, planted: Editor, n_pairs: int = N_PAIRS) -> dict:
    cfg = build_config(
        CompareConfig, protocol=protocol, out=tmp_path / "run", progress=False, figures=False,
        editors=["identity"], n_pairs=n_pairs, judge_audit=False, device="cpu",
    )  # fmt: skip
    run_compare(cfg, extra_editors={"planted": planted}, command="api")
    return json.loads((tmp_path / "run" / "results.json").read_text())


def _metric(data: dict, editor: str, prefix: str) -> dict:
    return next(v for k, v in data["editors"][editor]["metrics"].items() if k.startswith(prefix + "@"))


def _assert_loses(data: dict, au_key: str | None = "au_mae") -> None:
    headline = data["headline"]["metric"]
    planted = data["editors"]["planted"]["metrics"][headline]["value"]
    unchanged = data["editors"]["identity"]["metrics"][headline]["value"]
    assert planted <= unchanged, (headline, planted, unchanged)
    if au_key is None:
        return
    rows = [
        r for r in data["comparisons"]["rows"]
        if r["editor"] == "planted" and r["reference"] == "identity" and r["metric"].startswith(au_key + "@")
    ]  # fmt: skip
    assert rows
    # never reported better on AU error by both judges (a one-judge claim is marked as such)
    assert not all(r["significant"] and r["better"] == "planted" for r in rows), rows


@pytest.mark.xfail(
    strict=True,
    reason="open (issue 29): on aurig-smoke a +-2/255 PGD on aurig-robust still moves it 0.84 -> 0.46 and transfers "
    "to aurig-gn (0.77 -> 0.69), so 5 of 16 pairs 'succeed' against 0 unchanged; strict: passing flags the fix",
)
def test_an_invisible_attack_on_the_default_judge_does_not_win(tmp_path):
    data = _run(tmp_path, "aurig-smoke", PGDOnTheJudge())
    _assert_loses(data, au_key=None)  # the attacked judge itself may be fooled: the headline is not


def test_a_unit_bug_loses_everywhere(tmp_path):
    data = _run(tmp_path, "aurig-smoke", Times255())
    _assert_loses(data)
    assert data["editors"]["planted"]["n_failed"] == N_PAIRS
    assert _metric(data, "planted", "success")["value"] == 0.0


@pytest.mark.xfail(
    strict=True,
    reason="open (issue 29): blurring the lower half reads as less intense lower-face AUs to both judges, so pairs "
    "that ask for a weaker expression 'succeed' (4 of 16 on aurig-smoke); strict: passing flags the fix",
)
def test_a_blurred_half_face_does_not_win(tmp_path):
    _assert_loses(_run(tmp_path, "aurig-smoke", BlurLowerHalf()))


@pytest.mark.slow
def test_a_grey_lower_face_on_real_frames_does_not_win(tmp_path):
    data = _run(tmp_path, "video-reenact", GreyLowerHalf(), n_pairs=16)
    _assert_loses(data)
