"""Direct labels for scatter points that never hide each other or another point.

Greedy placement in display space: each label tries offsets on rings of growing
radius around its point (nearest first) and takes the first whose box overlaps
no label placed so far, no marker and stays inside the axes; a label away from
its point gets a thin leader line. Points that coincide get their labels on
different sides, so two editors with equal scores both stay readable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox

RING_STEP_PT = 5.0
RINGS = 12
DIRECTIONS = 16
MARKER_PAD_PT = 3.5  # half the box kept free around each marker
LABEL_PAD_PT = 1.5  # free space kept around each label (rounding and hinting at other dpi)


def _boxes_overlap(a: Bbox, b: Bbox) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def place_labels(
    ax: Axes,
    xy: Sequence[tuple[float, float]],
    texts: Sequence[str],
    fontsize: float = 5.5,
    obstacles: Sequence[tuple[float, float, float, float]] = (),
) -> list[Annotation]:
    """Annotate each data point ``xy[i]`` with ``texts[i]`` without overlaps; returns the labels.

    ``obstacles`` are data-space boxes ``(x0, y0, x1, y1)`` labels must not cover either
    (e.g. error bars). Call after the axes limits are final (placement is in display space)."""
    fig = ax.figure
    if not hasattr(fig.canvas, "get_renderer"):
        FigureCanvasAgg(fig)  # figures here are built without pyplot: attach a canvas to measure text
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    ax.autoscale_view()
    to_px = fig.dpi / 72.0
    pts = [ax.transData.transform(p) for p in xy]
    pad = MARKER_PAD_PT * to_px
    taken = [Bbox.from_extents(x - pad, y - pad, x + pad, y + pad) for x, y in pts]
    for x0, y0, x1, y1 in obstacles:
        (a, b), (c, d) = ax.transData.transform([(x0, y0), (x1, y1)])
        taken.append(Bbox.from_extents(min(a, c), min(b, d), max(a, c), max(b, d)).padded(to_px))
    frame = ax.get_window_extent(renderer)
    labels: list[Annotation] = []
    for (x, y), (px, py), text in zip(xy, pts, texts, strict=True):
        probe = ax.text(0, 0, text, fontsize=fontsize)
        size = probe.get_window_extent(renderer)
        probe.remove()
        box = _first_free(px, py, size.width, size.height, taken, frame, to_px)
        dx, dy = (box.x0 + box.width / 2 - px) / to_px, (box.y0 + box.height / 2 - py) / to_px
        gap = math.hypot(max(box.x0 - px, px - box.x1, 0), max(box.y0 - py, py - box.y1, 0)) / to_px
        far = gap > 1.5 * RING_STEP_PT  # a label not next to its point gets a leader line
        arrow = {"arrowstyle": "-", "lw": 0.4, "color": "0.45", "shrinkA": 0, "shrinkB": 2} if far else None
        labels.append(ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", ha="center",
                                  va="center", fontsize=fontsize, arrowprops=arrow))  # fmt: skip
        taken.append(box.padded(LABEL_PAD_PT * to_px))
    return labels


def _first_free(
    px: float, py: float, w: float, h: float, taken: list[Bbox], frame: Bbox, to_px: float
) -> Bbox:
    """The nearest box of size ``w`` x ``h`` around ``(px, py)`` clear of ``taken`` and inside ``frame``."""
    fallback = None
    for ring in range(1, RINGS + 1):
        r = ring * RING_STEP_PT * to_px
        for k in range(DIRECTIONS):
            angle = 2 * math.pi * k / DIRECTIONS
            # the label's centre sits so that its nearest edge is about r from the point
            cx = px + math.cos(angle) * (r + w / 2)
            cy = py + math.sin(angle) * (r + h / 2)
            box = Bbox.from_extents(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            free = not any(_boxes_overlap(box, t) for t in taken)
            if free and inside:
                return box
            if free and fallback is None:
                fallback = box
    return fallback or Bbox.from_extents(px, py, px + w, py + h)


def label_boxes(labels: Sequence[Annotation]) -> list[Bbox]:
    """Display-space boxes of the labels' text (leader lines left out), for checks."""
    renderer = labels[0].figure.canvas.get_renderer() if labels else None
    return [Text.get_window_extent(lab, renderer) for lab in labels]


def any_overlap(boxes: Sequence[Bbox]) -> bool:
    """Whether any two boxes intersect."""
    return any(_boxes_overlap(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
