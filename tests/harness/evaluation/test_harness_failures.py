"""Failures are data: an editor that blanks its hardest half must score worse than identity."""

import dataclasses
import json

import pytest
import torch

from faceedit_bench import plugins
from faceedit_bench.api.backends import AUDetector
from faceedit_bench.api.editor import Editor, EditOutput
from faceedit_bench.config import build_config
from faceedit_bench.harness.inputs.config import CompareConfig
from faceedit_bench.jobs.compare import run_compare
from faceedit_bench.testing import TINY_PROTOCOL


class ColourAUs(AUDetector):
    """A toy judge: AUs from the image's colour statistics; a flat (grey) image has no face."""

    label = "colour-au"

    def detect(self, images: torch.Tensor) -> torch.Tensor:
        stats = torch.cat([images.mean(dim=(2, 3)), images.std(dim=(2, 3))], dim=1)  # (N, 6)
        aus = (stats.repeat(1, 3)[:, :17] * 10).clamp(0, 5).double()
        flat = images.flatten(1).std(dim=1) < 1e-4
        aus[flat] = float("nan")
        return aus


class BlankHardestHalf(Editor):
    """Leaves a face unchanged where that is already close to the request, else outputs grey."""

    def edit(self, images, target_aus):
        err = (ColourAUs().detect(images) - target_aus.double()).abs().mean(dim=1)
        hard = err.argsort(descending=True)[: len(err) // 2]  # the harder half of each batch
        out = images.clone()
        out[hard] = 0.5
        return EditOutput(images=out)


@pytest.fixture
def au_protocol():
    plugins.au_detectors.register("colour-au", ColourAUs, help="tests only", replace=True)
    proto = dataclasses.replace(
        TINY_PROTOCOL, name="tiny-au", metrics=("au_error", "psnr"),
        backends={"au_detector": ("colour-au",)}, n_pairs=24,
    )  # fmt: skip
    plugins.protocols.register("tiny-au", proto, replace=True)
    return "tiny-au"


def test_blanking_the_hardest_half_scores_worse_than_identity(tmp_path, monkeypatch, au_protocol):
    from faceedit_bench.jobs import compare as compare_mod

    real = compare_mod.load_editors

    def loader(names, checkpoints, resolution, device, has_gt, **kw):
        editors, why = real([n for n in names if n != "ganimation"], {}, resolution, device, has_gt, **kw)
        if "ganimation" in names:
            editors["ganimation"] = BlankHardestHalf()
        return editors, why

    monkeypatch.setattr(compare_mod, "load_editors", loader)
    cfg = build_config(
        CompareConfig, protocol=au_protocol, out=tmp_path / "run", progress=False, figures=False,
        editors=["identity", "ganimation"],
    )  # fmt: skip
    data = json.loads((run_compare(cfg) / "results.json").read_text())
    ident = data["editors"]["identity"]["metrics"]["au_mae@colour-au"]
    blank = data["editors"]["ganimation"]["metrics"]["au_mae@colour-au"]
    assert blank["n_missed"] == 12 and blank["miss_rate"] == pytest.approx(0.5)
    assert ident["n_missed"] == 0 and ident["miss_rate"] == 0
    # dropping the misses (the old behaviour, kept as value_judged) would reward the blanking...
    assert blank["value_judged"] < ident["value"]
    # ...scoring them as the worst detection makes it clearly worse, and the paired test says so
    assert blank["value"] > ident["value"]
    row = next(
        r for r in data["comparisons"]["rows"]
        if (r["editor"], r["reference"], r["metric"]) == ("ganimation", "identity", "au_mae@colour-au")
    )  # fmt: skip
    assert row["significant"] and row["better"] == "identity"
    missed = data["editors"]["ganimation"]["metrics"]["au_face_missed@colour-au"]
    assert missed["value"] == pytest.approx(0.5)
    summary = (tmp_path / "run" / "tables" / "summary.md").read_text()
    assert "found no face in 12/24 edits (50%)" in summary
