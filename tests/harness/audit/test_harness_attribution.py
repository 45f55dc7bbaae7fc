"""Attribution: hue removal, a planted colour-paint editor under a colour-reading judge, the results block."""

import dataclasses
from collections.abc import Sequence
from typing import ClassVar

import pytest
import torch

from faceedit_bench.api.aus import au_index
from faceedit_bench.api.backends import AUDetector, IdentityModel
from faceedit_bench.api.batch import PairBatch
from faceedit_bench.api.dataset import PairSet
from faceedit_bench.api.editor import Editor, EditOutput
from faceedit_bench.api.step import BackendSet
from faceedit_bench.harness.audit.attribution import (
    from_ycbcr,
    keep_only_hue,
    remove_hue,
    run_attribution,
    to_ycbcr,
)


def _mid_images(n: int = 3, size: int = 12, seed: int = 0) -> torch.Tensor:
    """Images well inside [0, 1], so small colour changes stay in gamut (no clipping)."""
    return 0.3 + 0.4 * torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed))


def _shift(images: torch.Tensor, dy: float = 0.0, dcb: float = 0.0, dcr: float = 0.0) -> torch.Tensor:
    ycc = to_ycbcr(images)
    ycc = ycc + torch.tensor([dy, dcb, dcr]).view(1, 3, 1, 1)
    out = from_ycbcr(ycc)
    assert out.min() >= 0 and out.max() <= 1  # the change stays in gamut
    return out


def test_ycbcr_round_trip():
    x = _mid_images()
    assert torch.allclose(from_ycbcr(to_ycbcr(x)), x, atol=1e-6)


def test_removing_the_hue_of_a_pure_hue_change_gives_back_the_original():
    x = _mid_images()
    recoloured = _shift(x, dcb=0.06, dcr=-0.05)
    assert (recoloured - x).abs().max() > 0.05
    assert torch.allclose(remove_hue(x, recoloured), x, atol=1e-5)
    assert torch.allclose(keep_only_hue(x, recoloured), recoloured, atol=1e-5)


def test_removing_the_hue_of_a_pure_brightness_change_keeps_it():
    x = _mid_images()
    brighter = _shift(x, dy=0.1)
    assert torch.allclose(remove_hue(x, brighter), brighter, atol=1e-5)
    assert torch.allclose(keep_only_hue(x, brighter), x, atol=1e-5)


def test_luma_and_hue_parts_add_up_and_untouched_pixels_are_exact():
    before = _mid_images(seed=1)
    after = before.clone()
    after[..., 3:7, 3:7] = _shift(before, dy=0.05, dcb=0.04, dcr=0.05)[..., 3:7, 3:7]
    luma, hue = remove_hue(before, after), keep_only_hue(before, after)
    assert torch.allclose(luma + hue - before, after, atol=1e-5)  # linear split of the change
    outside = torch.ones_like(before, dtype=torch.bool)
    outside[..., 3:7, 3:7] = False
    assert torch.equal(luma[outside], after[outside]) and torch.equal(hue[outside], after[outside])
    assert torch.equal(remove_hue(before, before), before)


# --- a planted colour-paint editor, judged by a judge that reads colour -------------------

SIZE, N = 16, 12
AU12 = au_index("AU12")
TARGET = 4.5


class _ColourJudge(AUDetector):
    """AU12 = 20 x the mean red-difference chroma (Cr) of the centre; every other AU reads 0."""

    label: ClassVar[str] = "colour-test"

    def detect(self, images: torch.Tensor) -> torch.Tensor:
        cr = to_ycbcr(images.float())[:, 2, 4:12, 4:12].mean(dim=(1, 2))
        aus = torch.zeros(len(images), 17)
        aus[:, AU12] = (20 * cr).clamp(0, 5)
        return aus


class _SameFace(IdentityModel):
    """Every image is the same person."""

    label: ClassVar[str] = "same-test"

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        return torch.ones(len(images), 4) / 2


class _GreyPairs(PairSet):
    """Grey faces asked to show AU12 = 4.5; no ground truth."""

    has_ground_truth = False

    def __len__(self) -> int:
        return N

    def cache_key(self) -> str:
        return "grey"

    def batch(self, indices: Sequence[int]) -> PairBatch:
        g = torch.Generator().manual_seed(7)
        grey = (0.45 + 0.1 * torch.rand(N, 1, SIZE, SIZE, generator=g)).expand(N, 3, SIZE, SIZE)
        aus = torch.zeros(len(indices), 17)
        aus[:, AU12] = TARGET
        return PairBatch(
            source=grey[list(indices)].clone(),
            target_aus=aus,
            sample_ids=[f"p{i}" for i in indices],
            identity_ids=[f"id{i}" for i in indices],
        )


def _paint(images: torch.Tensor) -> torch.Tensor:
    out = images.clone()
    out[:, :, 4:12, 4:12] = torch.tensor([0.85, 0.35, 0.35]).view(1, 3, 1, 1)  # a red blob: Cr about 0.23
    return out


class _Painter(Editor):
    """Edits nothing but paints a red blob where the judge looks."""

    def edit(self, images, target_aus):
        return EditOutput(images=_paint(images))


class _WarpThenPaint(Editor):
    """A 'motion step' (a 2-pixel shift, which the colour judge cannot see), then the blob."""

    def edit(self, images, target_aus):
        warped = torch.roll(images, 2, dims=-1)
        return EditOutput(images=_paint(warped), warped=warped)


class _Copy(Editor):
    def edit(self, images, target_aus):
        return EditOutput(images=images.clone())


def _value(block, editor, variant, key):
    return block["editors"][editor]["variants"][variant][key]["value"]


def test_colour_paint_gain_is_removed_by_the_no_hue_variant():
    backends = BackendSet(au_detector=_ColourJudge(), identity=_SameFace())
    editors = {"paint": _Painter(), "warp-paint": _WarpThenPaint(), "copy": _Copy()}
    block = run_attribution(_GreyPairs(), editors, backends, "cpu", batch_size=5, n_resamples=200)
    mae, success = "au_mae@colour-test", "success@colour-test"
    unchanged = block["unchanged"][mae]["value"]
    assert unchanged == pytest.approx(TARGET / 17, abs=0.02) and block["unchanged"][success]["value"] == 0
    for name in ("paint", "warp-paint"):
        # the paint reaches the expression for the colour judge ...
        assert _value(block, name, "final", mae) < 0.3 * unchanged
        assert _value(block, name, "final", success) == 1.0
        # ... and without the hue of the change every bit of that gain is gone
        assert _value(block, name, "no_hue", mae) == pytest.approx(unchanged, abs=1e-3)
        assert _value(block, name, "no_hue", success) == 0.0
        share = block["editors"][name]["vs_final"]["no_hue"][mae]["share_of_gain_lost"]["value"]
        assert share == pytest.approx(1.0, abs=0.01)
    entry = block["editors"]["warp-paint"]
    assert entry["has_motion_step"] and not block["editors"]["paint"]["has_motion_step"]
    assert "motion" not in block["editors"]["paint"]["variants"]
    assert _value(block, "warp-paint", "motion", mae) == pytest.approx(
        unchanged, abs=1e-3
    )  # moving is not paint
    assert _value(block, "warp-paint", "warp_luma", mae) == pytest.approx(unchanged, abs=1e-3)
    assert _value(block, "warp-paint", "warp_hue", mae) == pytest.approx(
        _value(block, "warp-paint", "final", mae)
    )
    assert entry["vs_final"]["no_hue"][mae]["ci95"][0] > 0  # paired interval above 0
    assert block["editors"]["copy"] == {"edits": False, "note": block["editors"]["copy"]["note"]}


class _FailsOnOdd(Editor):
    def edit(self, images, target_aus):
        if len(images) > 1 or images[0, 0, 0, 0] > 0.5:  # batch fails; odd rows fail alone
            raise RuntimeError("cannot edit")
        return EditOutput(images=_paint(images))


def test_samples_an_editor_cannot_edit_score_worst_in_every_variant():
    backends = BackendSet(au_detector=_ColourJudge(), identity=_SameFace())
    block = run_attribution(
        _GreyPairs(), {"flaky": _FailsOnOdd()}, backends, "cpu", batch_size=4, n_resamples=50
    )
    entry = block["editors"]["flaky"]
    assert 0 < entry["failed_samples"] < N
    for variant in ("final", "no_hue"):
        assert entry["variants"][variant]["au_mae@colour-test"]["n"] == N
    k = entry["failed_samples"]  # a failure reads each AU at the far end of 0-5: AU12 0, the rest 5
    worst, no_hue = (TARGET + 16 * 5) / 17, TARGET / 17
    expected = (k * worst + (N - k) * no_hue) / N
    assert entry["variants"]["no_hue"]["au_mae@colour-test"]["value"] == pytest.approx(expected, abs=0.01)
    assert entry["variants"]["final"]["success@colour-test"]["value"] == pytest.approx((N - k) / N)


def test_a_re_run_that_differs_from_the_main_pass_is_flagged(capsys):
    from faceedit_bench.harness.audit.attribution import check_reproduced

    final = {"au_mae@j": {"value": 0.5}, "psnr@exact": {"value": 30.0}}
    block = {"editors": {"same": {"variants": {"final": final}}, "drifts": {"variants": {"final": final}}}}
    main = {"same": {"au_mae@j": {"value": 0.5}, "psnr@exact": {"value": 30.0}},
            "drifts": {"au_mae@j": {"value": 0.52}, "psnr@exact": {"value": 30.0}}}  # fmt: skip
    check_reproduced(block, main)
    assert block["editors"]["same"]["final_matches_main_pass"] is True
    assert block["editors"]["drifts"]["final_matches_main_pass"] is False
    assert "'drifts'" in capsys.readouterr().out


# --- the block in a real (tiny) compare run -------------------------------------------------


def test_compare_writes_the_attribution_block(tmp_path, monkeypatch):
    from faceedit_bench import protocols
    from faceedit_bench.config import build_config
    from faceedit_bench.harness.inputs.config import CompareConfig
    from faceedit_bench.harness.outputs.results import load_results
    from faceedit_bench.jobs.compare import run_compare

    resolve = protocols.resolve_protocol

    def lean(*args, **kwargs):  # no FID/LPIPS networks: the test is about the attribution block
        return dataclasses.replace(
            resolve(*args, **kwargs), metrics=("edit_success", "au_error", "au_error_2", "psnr")
        )

    monkeypatch.setattr(protocols, "resolve_protocol", lean)
    config = build_config(
        CompareConfig, protocol="aurig-smoke", n_pairs=8, editors=["identity", "two-stage"],
        out=tmp_path / "run", figures=False, html=False, progress=False, judge_audit=False,
    )  # fmt: skip
    out = run_compare(config)
    data = load_results(out / "results.json")
    block = data["attribution"]
    assert block["n_pairs"] == 8 and block["editors"]["identity"]["edits"] is False
    two = block["editors"]["two-stage"]
    assert set(two["variants"]) == {"final", "no_hue", "motion", "warp_luma", "warp_hue"}
    ids = ["au_mae@aurig-robust", "au_mae@aurig-gn", "success@aurig-robust", "psnr@exact"]
    assert two["final_matches_main_pass"] is True
    assert set(two["variants"]["final"]) == set(ids)  # both AU judges, the headline success, PSNR
    for key in ids:  # the re-run edits are the scored ones, judged as the main pass judges them
        assert two["variants"]["final"][key]["value"] == pytest.approx(
            data["editors"]["two-stage"]["metrics"][key]["value"], abs=1e-9
        )
        assert block["unchanged"][key]["value"] == pytest.approx(
            data["editors"]["identity"]["metrics"][key]["value"], abs=1e-9
        )
    assert (out / "tables" / "attribution.md").exists() and "two-stage" in (
        out / "tables" / "attribution.csv"
    ).read_text()
    from faceedit_bench.reports.figures import make_figures
    from faceedit_bench.reports.html import attribution_views

    (view,) = attribution_views(data)
    assert len(view["rows"]) == 1 + 5  # the unchanged source, then two-stage's five images
    assert [p.name for p in make_figures(out, only=["attribution"])] == ["attribution.png", "attribution.pdf"]
    tex = (out / "tables" / "attribution.tex").read_text()
    assert "\\label{tab:aurig-smoke:attribution}" in tex and "\\%" in tex and "Δ" not in tex
