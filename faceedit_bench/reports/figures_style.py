"""One figure style for every report figure: sizes, fonts, colour-blind-safe palette, saving.

Figures are built on :class:`matplotlib.figure.Figure` directly (no pyplot state, no
GUI backend: rendering goes through Agg). Widths follow a two-column paper: 3.3 in
for one column, 7.0 in for a full-width multi-panel figure; fonts 7-8 pt so text
stays readable when printed at that size. Colours: the Okabe-Ito palette.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import matplotlib as mpl
from matplotlib.figure import Figure

from faceedit_bench.io import write_bytes_atomic

COLUMN_W = 3.3  # inches, one paper column
WIDE_W = 7.0  # inches, two columns
DPI = 200

# Okabe & Ito (2008), "Color universal design": distinguishable under common colour-vision deficiencies.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
REFERENCE_COLOR = "#777777"
LINESTYLES = ("-", "--", ":", "-.")

RC = {
    "font.size": 7,
    "axes.titlesize": 7.5,
    "axes.labelsize": 7,
    "xtick.labelsize": 6,
    "ytick.labelsize": 6,
    "legend.fontsize": 6,
    "legend.frameon": False,
    "axes.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 2.5,
    "ytick.major.size": 2.5,
    "lines.linewidth": 1.2,
    "lines.markersize": 4,
    "errorbar.capsize": 1.5,
    "axes.prop_cycle": mpl.cycler(color=list(OKABE_ITO)),
    "pdf.fonttype": 42,  # embed TrueType: text stays text in the PDF
    "savefig.dpi": DPI,
    "image.interpolation": "nearest",
}


@contextmanager
def style() -> Iterator[None]:
    """Apply the report style for the duration of a figure build."""
    with mpl.rc_context(RC):
        yield


def new_figure(width: float, height: float) -> Figure:
    """A figure of ``width`` x ``height`` inches with a white background."""
    return Figure(figsize=(width, height), facecolor="white")


def editor_colors(names: Sequence[str], reference: Sequence[str] = ()) -> dict[str, str]:
    """Stable colour per editor: reference editors grey, the rest cycle Okabe-Ito."""
    colors: dict[str, str] = {}
    i = 0
    for name in names:
        if name in reference:
            colors[name] = REFERENCE_COLOR
        else:
            colors[name] = OKABE_ITO[i % len(OKABE_ITO)]
            i += 1
    return colors


def save(fig: Figure, out_dir: Path, name: str) -> list[Path]:
    """Write ``name.png`` (200 dpi) and ``name.pdf`` atomically; return both paths."""
    paths = []
    for ext in ("png", "pdf"):
        buf = io.BytesIO()
        fig.savefig(buf, format=ext, dpi=DPI, bbox_inches="tight", pad_inches=0.02)
        path = Path(out_dir) / f"{name}.{ext}"
        write_bytes_atomic(path, buf.getvalue())
        paths.append(path)
    return paths
