"""FID-vs-AU labels: no label hides another label or a marker, even for coincident points."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from matplotlib.transforms import Bbox

from faceedit_bench.reports import figures_plots
from faceedit_bench.reports.figures_inputs import RunInputs
from faceedit_bench.reports.figures_labels import MARKER_PAD_PT, any_overlap, label_boxes, place_labels
from faceedit_bench.reports.figures_style import COLUMN_W, new_figure, style

# aurig-demo's crowded corner: identity and warp-only at the same place, several editors near
POINTS = {
    "identity (ref.)": (0.983, 14.0), "warp-only": (0.985, 14.0), "oracle (ref.)": (0.230, 0.0),
    "ganimation": (1.095, 115.0), "two-stage": (1.028, 110.0), "texture-only": (0.991, 213.0),
    "two-stage-no-tv": (0.998, 132.0), "two-stage-no-cycle": (1.028, 101.0), "two-stage-no-mask": (0.985, 207.0),
}  # fmt: skip


def test_labels_hide_no_label_and_no_marker() -> None:
    with style():
        fig = new_figure(COLUMN_W, 2.6)
        ax = fig.add_subplot()
        ax.plot(*zip(*POINTS.values(), strict=True), "o")
        ax.margins(x=0.3, y=0.25)
        labels = place_labels(ax, list(POINTS.values()), list(POINTS))
        fig.canvas.draw()
    boxes = label_boxes(labels)
    assert len(boxes) == len(POINTS) and not any_overlap(boxes)
    pad = MARKER_PAD_PT * fig.dpi / 72
    for x, y in (ax.transData.transform(p) for p in POINTS.values()):
        marker = Bbox.from_extents(x - pad, y - pad, x + pad, y + pad)
        assert not any(any_overlap([marker, b]) for b in boxes)  # no label covers a marker
    frame = ax.get_window_extent()
    assert all(frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1 for b in boxes)
    assert labels[0].get_text() == "identity (ref.)" and labels[1].get_text() == "warp-only"
    assert labels[0].xyann != labels[1].xyann  # coincident points: labels on different sides


def test_fid_vs_au_figure_labels_coincident_editors(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    data = json.loads((run / "results.json").read_text())
    ids = ("au_mae@aurig-ref", "fid@inception-v3-compat")
    for mid in ids:  # warp-only scores exactly what identity scores
        data["editors"]["warp-only"]["metrics"][mid] = dict(data["editors"]["identity"]["metrics"][mid])
    (run / "results.json").write_text(json.dumps(data))
    placed = []

    def spy(ax, xy, texts, **kw):
        placed.extend(labels := place_labels(ax, xy, texts, **kw))
        return labels

    monkeypatch.setattr(figures_plots, "place_labels", spy)
    with style():
        paths = figures_plots.fid_vs_au_figure(RunInputs(run), tmp_path / "fig")
    assert [p.suffix for p in paths] == [".png", ".pdf"]
    texts = [lab.get_text() for lab in placed]
    assert "identity (ref.)" in texts and "warp-only" in texts
    placed[0].figure.canvas.draw()  # measure in a fresh layout, not the one savefig left behind
    assert not any_overlap(label_boxes(placed))
