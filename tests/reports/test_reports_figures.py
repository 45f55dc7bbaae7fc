"""Figures from the fixture run: every file written, skips for absent inputs, flow maths."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from faceedit_bench.cli import figures as figures_cli
from faceedit_bench.reports.figures import make_figures
from faceedit_bench.reports.figures_inputs import RunInputs
from faceedit_bench.reports.figures_plots import per_au_from_samples, split_curves
from faceedit_bench.reports.flow_viz import color_wheel, flow_to_rgb, grid_to_displacement, identity_grid

EXPECTED = [
    "qualitative",
    "sweep_AU12",
    "sweep_AU25",
    "inside",
    "per_au__au_mae__aurig-ref",
    "fid_vs_au_error",
    "training_two-stage",
    "training_ganimation",
]


@pytest.fixture(scope="module")
def figure_dir(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("figures")
    paths = make_figures(run_dir, out)
    assert len(paths) == 2 * len(EXPECTED)
    return out


@pytest.mark.parametrize("name", EXPECTED)
def test_figure_written(figure_dir: Path, name: str) -> None:
    png, pdf = figure_dir / f"{name}.png", figure_dir / f"{name}.pdf"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert png.stat().st_size > 8_000 and pdf.stat().st_size > 5_000


def test_png_size_fits_paper_widths(figure_dir: Path) -> None:
    from PIL import Image

    for name, max_in in (
        ("fid_vs_au_error", 3.5),
        ("sweep_AU12", 3.5),
        ("qualitative", 7.2),
        ("per_au__au_mae__aurig-ref", 7.2),
    ):
        width_px = Image.open(figure_dir / f"{name}.png").size[0]
        assert 200 * 2.0 < width_px <= 200 * max_in, (name, width_px)


def test_absent_inputs_are_skipped(run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(run_dir / "results.json", bare / "results.json")
    paths = make_figures(bare)
    names = sorted(p.stem for p in paths)
    assert names == [
        "fid_vs_au_error",
        "fid_vs_au_error",
        "per_au__au_mae__aurig-ref",
        "per_au__au_mae__aurig-ref",
    ]
    assert all(p.parent == bare / "figures" for p in paths)
    out = capsys.readouterr().out
    assert "figure qualitative: skipped" in out and "qualitative.npz not found" in out
    assert "figure training: skipped" in out


def test_per_au_falls_back_to_samples(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads((run_dir / "results.json").read_text())
    for entry in data["editors"].values():
        entry["metrics"] = {k: v for k, v in entry["metrics"].items() if "_AU" not in k}
    (tmp_path / "results.json").write_text(json.dumps(data))
    shutil.copy(run_dir / "samples.jsonl", tmp_path / "samples.jsonl")
    paths = make_figures(tmp_path, only=["per_au"])
    assert [p.name for p in paths] == ["per_au__au_mae__aurig-ref.png", "per_au__au_mae__aurig-ref.pdf"]
    assert "from samples.jsonl" in capsys.readouterr().out
    per_au = per_au_from_samples(RunInputs(tmp_path).samples)
    mean, lo, hi = per_au[("au_mae", "aurig-ref")]["two-stage"]["AU01"]
    assert mean == pytest.approx(0.175 + 0.035)  # per_au_value + 0.01 * mean(0..7)
    assert lo < mean < hi


def test_unknown_figure_name(run_dir: Path) -> None:
    with pytest.raises(ValueError, match="unknown figure"):
        make_figures(run_dir, only=["nope"])


def test_flow_viz() -> None:
    grid = identity_grid(4, 8)
    assert grid[0, 0].tolist() == pytest.approx([-1 + 1 / 8, -1 + 1 / 4])
    assert np.abs(grid_to_displacement(grid[None])).max() < 1e-12
    shifted = grid + np.array([2 / 8, 0.0])  # one pixel to the right in an 8-wide image
    assert grid_to_displacement(shifted)[..., 0] == pytest.approx(np.ones((4, 8)))
    rgb = flow_to_rgb(np.zeros((3, 3, 2)))
    assert rgb == pytest.approx(np.ones((3, 3, 3)))  # no motion -> white
    right = flow_to_rgb(np.array([[[1.0, 0.0]]]))[0, 0]
    assert right == pytest.approx([1.0, 0.0, 0.0])  # hue 0 = red for motion to the right
    wheel = color_wheel(16)
    assert wheel.shape == (16, 16, 4) and wheel[0, 0, 3] == 0 and wheel[8, 8, 3] == 1
    with pytest.raises(ValueError, match=r"\(\.\.\., H, W, 2\)"):
        grid_to_displacement(np.zeros((4, 4, 3)))


def test_split_curves() -> None:
    rows = [
        {"kind": "train", "step": 10, "time_s": 1.0, "lr/g": 1e-4, "d/total": -1.0, "g/au": 0.5},
        {"kind": "val", "step": 10, "time_s": 1.5, "val/au_mae_critic": 0.9},
        {"step": 20, "loss/gen": 2.0, "val/au_mae": 0.8},
    ]
    train, val = split_curves(rows)
    assert train == {"d/total": [(10.0, -1.0)], "g/au": [(10.0, 0.5)], "loss/gen": [(20.0, 2.0)]}
    assert val == {"val/au_mae_critic": [(10.0, 0.9)], "val/au_mae": [(20.0, 0.8)]}


def test_figures_cli(run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    figures_cli.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["figures", str(run_dir), "--out", str(tmp_path), "--only", "fid_vs_au_error"])
    assert args.run(args) == 0
    assert (tmp_path / "fid_vs_au_error.pdf").exists()
    assert "2 figure file(s) written" in capsys.readouterr().out


def test_malformed_artifacts_name_the_file(run_dir: Path, tmp_path: Path) -> None:
    shutil.copytree(run_dir, tmp_path / "run")
    path = tmp_path / "run" / "artifacts" / "qualitative.npz"
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["mask__two-stage"] = arrays["mask__two-stage"][:, 0]  # (K, H, W): channel axis lost
    np.savez(path, **arrays)
    with pytest.raises(
        ValueError, match=r"qualitative\.npz: array 'mask__two-stage' has shape \(3, 16, 16\)"
    ):
        make_figures(tmp_path / "run", only=["inside"])
    arrays["mask__two-stage"] = np.zeros((2, 1, 16, 16), np.float32)  # 2 pairs where the others have 3
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=r"'mask__two-stage' has K=2, other arrays have K=3"):
        make_figures(tmp_path / "run", only=["inside"])
    path.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"qualitative\.npz: not a readable \.npz"):
        make_figures(tmp_path / "run", only=["qualitative"])


def test_sweep_adds_a_truth_row_where_the_data_renders_one(figure_dir: Path) -> None:
    from PIL import Image

    with_truth = Image.open(figure_dir / "sweep_AU12.png").size
    without = Image.open(figure_dir / "sweep_AU25.png").size
    assert with_truth[0] == without[0] and with_truth[1] > without[1]
