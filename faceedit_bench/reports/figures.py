"""Paper figures (PNG 200 dpi + PDF) built only from a run directory's result files.

Each figure is one function ``(RunInputs, out_dir) -> list[Path]`` in
:data:`FIGURES`; one whose inputs are absent is skipped with a printed reason.
``figures.tex`` puts each PDF in a one- or two-column float (:mod:`.latex`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from faceedit_bench.reports.figures_images import inside_figure, qualitative_grid, sweep_figures
from faceedit_bench.reports.figures_inputs import RunInputs, SkipFigure
from faceedit_bench.reports.figures_plots import (
    attribution_figure,
    fid_vs_au_figure,
    per_au_figures,
    training_figures,
)
from faceedit_bench.reports.figures_style import style

FigureFn = Callable[[RunInputs, Path], list[Path]]

FIGURES: dict[str, FigureFn] = {
    "qualitative": qualitative_grid,
    "sweeps": sweep_figures,
    "inside": inside_figure,
    "per_au": per_au_figures,
    "fid_vs_au_error": fid_vs_au_figure,
    "attribution": attribution_figure,
    "training": training_figures,
}


def make_figures(
    run_dir: str | Path, out_dir: str | Path | None = None, only: list[str] | None = None
) -> list[Path]:
    """Write every figure (or those named in ``only``) under ``out_dir`` (default RUN_DIR/figures)."""
    inputs = RunInputs(Path(run_dir))
    out = Path(out_dir) if out_dir is not None else inputs.run_dir / "figures"
    names = list(FIGURES) if only is None else only
    unknown = [n for n in names if n not in FIGURES]
    if unknown:
        raise ValueError(f"unknown figure(s) {', '.join(unknown)}; known: {', '.join(FIGURES)}")
    written: list[Path] = []
    for name in names:
        try:
            with style():
                written += FIGURES[name](inputs, out)
        except SkipFigure as reason:
            print(f"figure {name}: skipped ({reason})")
    if written:  # \input{figures/figures.tex}: each PDF in a one- or two-column float by its width
        from faceedit_bench.reports.latex import write_figures_tex

        write_figures_tex(out, inputs.results["protocol"]["name"], inputs.results)
    return written
