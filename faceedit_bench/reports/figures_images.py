"""Image figures: qualitative grid, AU intensity sweeps, the two-stage editor's inside.

All read ``artifacts/qualitative.npz`` / ``artifacts/sweeps.npz`` (uint8 NCHW images)
written by ``faceedit-bench compare``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from faceedit_bench.api.aus import AU_DESCRIPTIONS, AU_NAMES
from faceedit_bench.reports.figures_inputs import RunInputs, SkipFigure, hwc
from faceedit_bench.reports.figures_style import COLUMN_W, OKABE_ITO, WIDE_W, new_figure, save
from faceedit_bench.reports.flow_viz import color_wheel, flow_to_rgb, grid_to_displacement

MAX_ROWS = 6
CELL_MAX = 0.75  # inches per image cell at most
TRUTH_LABEL = "truth"
STRIP_RATIO = 2.2  # AU bar strip width / image width: room for 17 tick labels


def wrap_name(name: str, width: int = 11) -> str:
    """Break a long editor name at a hyphen so column titles stay narrow."""
    if len(name) <= width or "-" not in name:
        return name
    cuts = [i for i, c in enumerate(name) if c == "-"]
    cut = min(cuts, key=lambda i: abs(i - len(name) / 2))
    return name[:cut] + "\n" + name[cut:]


def show(
    ax: Axes, image: np.ndarray, title: str | None = None, title_size: float = 6, **kwargs: object
) -> None:
    """``imshow`` without ticks or frame (a y-label set later stays visible)."""
    ax.imshow(image, **kwargs)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title is not None:
        ax.set_title(title, fontsize=title_size, pad=2)


def au_strip(ax: Axes, target: np.ndarray, source: np.ndarray | None, labels: bool, title: bool) -> None:
    """17 bars of target AU intensities (0-5); source intensities as black ticks."""
    x = np.arange(len(AU_NAMES))
    ax.bar(x, np.nan_to_num(target), width=0.8, color=OKABE_ITO[0], linewidth=0)
    if source is not None:
        ax.scatter(x, source, marker="_", s=9, color="black", linewidths=0.8, zorder=3)
    ax.set_ylim(0, 5)
    ax.set_xlim(-0.7, len(x) - 0.3)
    ax.set_yticks([0, 5], ["0", "5"] if title else [])  # scale labelled once, on the top row
    ax.tick_params(axis="both", labelsize=4.5, length=1.5, pad=1)
    ax.set_xticks(x)
    ax.set_xticklabels([a[2:].lstrip("0") for a in AU_NAMES] if labels else [], rotation=90)
    ax.set_box_aspect(1 / STRIP_RATIO)
    if title:
        ax.set_title("target AUs\n(— = source)" if source is not None else "target AUs", fontsize=6, pad=2)


def qualitative_grid(inp: RunInputs, out_dir: Path) -> list[Path]:
    """Rows = pairs; columns = source | target AUs | each editor | true target."""
    q = inp.qualitative
    editors = [e for e in q["editors"] if f"edited__{e}" in q]
    if not editors:
        raise SkipFigure("qualitative.npz has no edited__<editor> arrays")
    k = min(len(q["source"]), MAX_ROWS)
    has_target = "target" in q
    n_img = 1 + len(editors) + int(has_target)
    ratios = [1.0, STRIP_RATIO] + [1.0] * (n_img - 1)
    width = min(WIDE_W, CELL_MAX * sum(ratios))
    cell = width / sum(ratios)
    height = cell * k + 0.4
    fig = new_figure(width, height)
    gs = fig.add_gridspec(
        k, len(ratios), width_ratios=ratios, wspace=0.06, hspace=0.06,
        top=1 - 0.3 / height, bottom=0.18 / height, left=0.03, right=0.995,
    )  # fmt: skip
    titles = ["source", None, *(wrap_name(e) for e in editors), *(["target"] if has_target else [])]
    for r in range(k):
        images = [q["source"][r], None, *(q[f"edited__{e}"][r] for e in editors)]
        if has_target:
            images.append(q["target"][r])
        for c, image in enumerate(images):
            ax = fig.add_subplot(gs[r, c])
            if image is None:
                src = q["source_aus"][r] if "source_aus" in q else None
                au_strip(ax, q["target_aus"][r], src, labels=r == k - 1, title=r == 0)
            else:
                show(ax, hwc(image), titles[c] if r == 0 else None, title_size=6 if cell >= 0.62 else 5)
    return save(fig, out_dir, "qualitative")


def sweep_figures(inp: RunInputs, out_dir: Path) -> list[Path]:
    """One figure per swept AU: rows = editors (then the truth, where the data renders it),
    columns = source then intensities 0..5."""
    s = inp.sweeps
    intensities = np.asarray(s["intensities"], dtype=float)
    paths: list[Path] = []
    for au in (str(a) for a in s["aus"]):
        editors = [e for e in s["editors"] if f"edited__{e}__{au}" in s]
        if not editors:
            print(f"figure sweep_{au}: skipped (no edited__<editor>__{au} arrays)")
            continue
        rows = [(e, s[f"edited__{e}__{au}"][0]) for e in editors]
        if f"truth__{au}" in s:
            rows.append((TRUTH_LABEL, s[f"truth__{au}"][0]))
        n_col = 1 + len(intensities)
        cell = min(CELL_MAX, (COLUMN_W - 0.35) / n_col)
        width, height = cell * n_col + 0.35, cell * len(rows) + 0.4
        fig = new_figure(width, height)
        gs = fig.add_gridspec(
            len(rows),
            n_col,
            wspace=0.04,
            hspace=0.04,
            left=0.35 / width,
            right=0.995,
            top=1 - 0.3 / height,
            bottom=0.01,
        )
        for r, (editor, frames) in enumerate(rows):
            for c in range(n_col):
                ax = fig.add_subplot(gs[r, c])
                image = s["source"][0] if c == 0 else frames[c - 1]
                title = ("source" if c == 0 else f"{intensities[c - 1]:g}") if r == 0 else None
                show(ax, hwc(image), title)
                if c == 0:
                    ax.set_ylabel(
                        wrap_name(editor), fontsize=6, rotation=0, ha="right", va="center", labelpad=2
                    )
        desc = AU_DESCRIPTIONS.get(au, "")
        fig.suptitle(f"{au} {f'({desc}) ' if desc else ''}intensity 0 → 5", fontsize=7, y=1.0)
        paths += save(fig, out_dir, f"sweep_{au}")
    if not paths:
        raise SkipFigure("sweeps.npz has no sweep arrays")
    return paths


def _inside_editor(inp: RunInputs, q: dict[str, np.ndarray]) -> str:
    with_flow = [
        e for e in q["editors"] if f"flow__{e}" in q and f"edited__{e}" in q and inp.group(e) != "reference"
    ]
    if not with_flow:
        raise SkipFigure("no non-reference editor in qualitative.npz exposes a flow (flow__<editor>)")
    ranked = sorted(
        with_flow, key=lambda e: (e != "two-stage", inp.group(e) != "two-stage", f"mask__{e}" not in q)
    )
    return ranked[0]


def inside_figure(inp: RunInputs, out_dir: Path) -> list[Path]:
    """Flow as colour and arrows, attention mask, warped image and output of a two-stage editor."""
    q = inp.qualitative
    editor = _inside_editor(inp, q)
    disp = grid_to_displacement(q[f"flow__{editor}"])
    k = min(len(disp), 3)
    max_mag = max(float(np.hypot(disp[:k, ..., 0], disp[:k, ..., 1]).max()), 1e-6)
    cols = ["source", "flow", "motion", "mask", "warped", "output", "target"]
    cols = [
        c
        for c in cols
        if {"mask": f"mask__{editor}", "warped": f"warped__{editor}", "target": "target"}.get(c, "source")
        in q
    ]
    ratios = [1.0] * len(cols) + [0.55]
    cell = min(CELL_MAX * 1.3, WIDE_W / sum(ratios))
    height = cell * k + 0.45
    fig = new_figure(cell * sum(ratios), height)
    gs = fig.add_gridspec(
        k, len(ratios), width_ratios=ratios, wspace=0.06, hspace=0.06,
        top=1 - 0.4 / height, bottom=0.01, left=0.005, right=0.995,
    )  # fmt: skip
    titles = {
        "source": "source", "flow": "flow (colour)", "motion": "motion (arrows)", "mask": "mask\n(1 = keep warp)",
        "warped": "warped\n(motion step)", "output": "output\n(+ texture)" if "mask" in cols else "output", "target": "true target",
    }  # fmt: skip
    for r in range(k):
        for c, col in enumerate(cols):
            ax = fig.add_subplot(gs[r, c])
            title = titles[col] if r == 0 else None
            if col == "flow":
                show(ax, flow_to_rgb(disp[r], max_mag), title)
            elif col == "motion":
                _quiver(ax, q["source"][r], disp[r], max_mag, title)
            elif col == "mask":
                show(ax, q[f"mask__{editor}"][r, 0], title, cmap="viridis", vmin=0, vmax=1)
            else:
                key = {
                    "source": "source",
                    "warped": f"warped__{editor}",
                    "output": f"edited__{editor}",
                    "target": "target",
                }[col]
                show(ax, hwc(q[key][r]), title)
    _wheel_legend(fig, gs[0, -1], max_mag)
    if "mask" in cols:
        _mask_colorbar(fig, gs[min(1, k - 1) if k > 1 else 0, -1], below=k == 1)
    steps = "motion step (flow, warp), then texture step (mask, output)" if "mask" in cols else "motion step"
    fig.suptitle(f"{editor}: {steps}", fontsize=7, y=1.0)
    return save(fig, out_dir, "inside")


def _quiver(ax: Axes, source: np.ndarray, disp: np.ndarray, max_mag: float, title: str | None) -> None:
    """Arrows from where content is sampled to where it lands (subsampled to ~8x8)."""
    h, w = disp.shape[:2]
    gray = hwc(source).mean(axis=-1)
    show(ax, gray, title, cmap="gray", vmin=0, vmax=255, alpha=0.45)
    step = max(1, min(h, w) // 8)
    ys, xs = np.mgrid[step // 2 : h : step, step // 2 : w : step]
    d = disp[ys, xs]
    gain = 0.9 * step / max_mag  # longest arrow ~ one grid step, so arrows never pile up
    ax.quiver(xs + d[..., 0], ys + d[..., 1], -d[..., 0] * gain, -d[..., 1] * gain, angles="xy", scale_units="xy",
              scale=1, color=OKABE_ITO[3], width=0.012, headwidth=3.5, headlength=3.5, headaxislength=3)  # fmt: skip
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)


def _wheel_legend(fig: Figure, cell: object, max_mag: float) -> None:
    ax = fig.add_subplot(cell)
    show(ax, color_wheel(64))
    ax.set_title("flow key", fontsize=6, pad=2)
    ax.set_xlabel(f"max |d| =\n{max_mag:.2g} px", fontsize=5.5, labelpad=2)


def _mask_colorbar(fig: Figure, cell: object, below: bool) -> None:
    """A small vertical 0-1 colour bar for the attention mask."""
    holder = fig.add_subplot(cell)
    holder.set_axis_off()
    cax = holder.inset_axes([0.4, -1.1 if below else -0.05, 0.18, 0.62])
    bar = fig.colorbar(ScalarMappable(Normalize(0, 1), cmap="viridis"), cax=cax, ticks=[0, 0.5, 1])
    bar.ax.tick_params(labelsize=5, length=1.5, pad=1)
    bar.outline.set_linewidth(0.4)
    cax.set_title("mask", fontsize=6, pad=2)
