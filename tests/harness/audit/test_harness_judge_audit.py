"""The judge audit: white-box PGD on a judge with gradients, black-box probes otherwise, in every run."""

import json
from functools import partial
from typing import ClassVar

import pytest
import torch

from faceedit_bench.api.aus import AU_NAMES
from faceedit_bench.api.backends import AUDetector
from faceedit_bench.harness.audit import judge_audit
from faceedit_bench.harness.audit.judge_audit import (
    BLACK_BOX,
    WHITE_BOX,
    audit_au_judge,
    gap_closed,
    judged_mae,
)
from faceedit_bench.harness.audit.judge_probes import PROBES
from faceedit_bench.harness.inputs.pairs import build_pairs
from faceedit_bench.protocols import resolve_protocol


@pytest.fixture(scope="module")
def smoke():
    """The first six aurig-smoke pairs and the protocol's judge."""
    from faceedit_bench.aurig.reference.backends import AuRigAUDetector

    pairs = build_pairs(resolve_protocol("aurig-smoke"))
    return pairs.batch(list(range(6))), AuRigAUDetector()


def test_white_box_reaches_lower_mae_with_a_larger_budget(smoke):
    batch, judge = smoke
    block = audit_au_judge(
        judge, batch.source, batch.target_aus, batch.target_image, budgets=(1, 2, 4), steps=6, max_sources=5
    )
    assert block["method"] == WHITE_BOX and block["n_sources"] == 5 and block["steps"] == 6
    reached = [row["reached_mae"] for row in block["budgets"]]
    assert reached[0] < block["unchanged_mae"]
    assert reached[0] >= reached[1] >= reached[2]
    for row in block["budgets"]:  # within the budget of the 8-bit source, after rounding
        assert row["max_change_255"] <= row["eps_255"] + 1e-3
        assert row["gap_closed"] == pytest.approx(
            (block["unchanged_mae"] - row["reached_mae"]) / (block["unchanged_mae"] - block["truth_mae"]),
            abs=1e-3,
        )
    # the unchanged sources score what the harness's au_mae scores for copying the input
    mae, missed = judged_mae(judge, batch.source[:5], batch.target_aus[:5])
    assert block["unchanged_mae"] == pytest.approx(float(mae.mean()), abs=1e-4) and missed == 0


def test_differentiable_judge_reads_what_detect_reads(smoke):
    batch, judge = smoke
    fn = judge.differentiable()
    x = batch.source[:3].clone().requires_grad_(True)
    out = fn(x)
    assert torch.allclose(out.detach(), judge.detect(batch.source[:3]), atol=1e-5)
    (grad,) = torch.autograd.grad(out.sum(), x)
    assert grad.abs().sum() > 0


class _BrightnessJudge(AUDetector):
    """No gradients: every AU reads 5 x the mean of the lower half; no face when the upper half is flat."""

    label: ClassVar[str] = "brightness-test"
    measured_aus: ClassVar[tuple[str, ...]] = AU_NAMES[:-1]  # AU45 unmeasured

    def detect(self, images: torch.Tensor) -> torch.Tensor:
        h = images.shape[-2]
        level = 5 * images[:, :, h // 2 :].mean(dim=(1, 2, 3))
        out = level[:, None].repeat(1, len(AU_NAMES))
        out[:, -1] = float("nan")
        out[images[:, :, : h // 2].std(dim=(1, 2, 3)) < 1e-4] = float("nan")
        return out


def test_a_judge_without_gradients_gets_the_black_box_probe(smoke):
    batch, _ = smoke
    judge = _BrightnessJudge()
    block = audit_au_judge(judge, batch.source, batch.target_aus, batch.target_image, draws=2)
    assert block["method"] == BLACK_BOX and "budgets" not in block
    assert set(block["probes"]) == set(PROBES)
    family_best = min(p["reached_mae"] for p in block["probes"].values())
    assert block["best"]["reached_mae"] <= family_best + 1e-9  # per sample, the best over every family
    assert block["best"]["probe"] in PROBES and block["truth_mae"] is not None
    with pytest.raises(ValueError, match="no gradients"):
        audit_au_judge(judge, batch.source, batch.target_aus, black_box_probe=False)


def test_a_missed_face_scores_the_worst_value_on_the_measured_aus():
    flat = torch.full((2, 3, 8, 8), 0.5)  # a flat upper half: the judge finds no face
    target = torch.tensor([[1.0] * 17, [4.0] * 17])
    mae, missed = judged_mae(_BrightnessJudge(), flat, target)
    assert missed == 2 and mae.tolist() == pytest.approx([4.0, 4.0])  # worst of 0-5: 5 for 1, 0 for 4
    assert gap_closed(1.0, 0.5, None) == 0.5 and gap_closed(1.0, 0.5, 1.0) is None


PROTOCOL_YAML = """\
dataset: aurig
dataset_args: {resolution: 32}
name: judge-audit-test
split: test
n_pairs: 4
metrics: [au_error]
backends: {au_detector: [aurig-ref]}
default_editors: [identity]
"""


def _compare(tmp_path, **kw):
    from faceedit_bench.config import build_config
    from faceedit_bench.harness.inputs.config import CompareConfig
    from faceedit_bench.jobs.compare import run_compare

    path = tmp_path / "p.yaml"
    path.write_text(PROTOCOL_YAML)
    cfg = build_config(
        CompareConfig,
        protocol=str(path),
        out=tmp_path / "run",
        progress=False,
        figures=False,
        html=False,
        **kw,
    )
    return run_compare(cfg)


def test_compare_records_the_audit_and_every_table_format_shows_it(tmp_path, monkeypatch):
    from faceedit_bench.harness.outputs.results import load_results
    from faceedit_bench.reports.html import render_report

    monkeypatch.setattr(judge_audit, "audit_pairs", partial(judge_audit.audit_pairs, steps=4))
    out = _compare(tmp_path)
    data = load_results(out / "results.json")
    block = data["judge_audit"]["aurig-ref"]
    assert block["kind"] == "au_detector" and block["method"] == WHITE_BOX
    assert block["n_sources"] == 4 and block["n_pairs"] == 4 and block["seconds"] > 0
    identity = data["editors"]["identity"]["metrics"]["au_mae@aurig-ref"]["value"]
    assert block["unchanged_mae"] == pytest.approx(
        identity, abs=1e-3
    )  # copying the input, as the run scored it
    line = "Judge audit (aurig-ref, white-box PGD, 4 sources): a ±1/255 change reaches AU MAE "
    assert line in (out / "tables" / "summary.md").read_text()
    assert line.replace("±", r"$\pm$") in (out / "tables" / "summary.tex").read_text()
    assert line in render_report(out)


def test_no_judge_audit_leaves_the_block_out(tmp_path):
    out = _compare(tmp_path, judge_audit=False)
    data = json.loads((out / "results.json").read_text())
    assert "judge_audit" not in data and data["config"]["judge_audit"] is False
    assert "Judge audit" not in (out / "tables" / "summary.md").read_text()
