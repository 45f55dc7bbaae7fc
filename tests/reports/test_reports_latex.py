"""LaTeX tables fit their column or page by construction, labels are unique per protocol;
a two-column paper with two protocols' tables compiles cleanly (when pdflatex is present)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from faceedit_bench.reports.latex import (
    COLUMN_PT,
    PAGE_PT,
    label,
    pdf_width_in,
    split_columns,
    table_latex,
    write_figures_tex,
)
from faceedit_bench.reports.tables import build_ablation, build_summary, write_tables

from .conftest import compile_paper, make_results


def _two_protocols(run_dir: Path, tmp_path: Path) -> list[Path]:
    """tables/ of the fixture run under two protocol names (as two papers' runs would be)."""
    dirs = []
    for name in ("aurig-demo", "aurig-paper"):
        run = tmp_path / name
        shutil.copytree(run_dir, run)
        data = json.loads((run / "results.json").read_text())
        data["protocol"]["name"] = name
        (run / "results.json").write_text(json.dumps(data))
        write_tables(run)
        dirs.append(run / "tables")
    return dirs


def test_labels_are_unique_per_protocol_and_table(run_dir: Path, tmp_path: Path) -> None:
    labels = []
    for tables in _two_protocols(run_dir, tmp_path):
        for tex in sorted(tables.glob("*.tex")):
            labels += re.findall(r"\\label\{([^}]*)\}", tex.read_text())
    assert "tab:aurig-demo:summary" in labels and "tab:aurig-paper:ablation" in labels
    assert len(labels) == len(set(labels))
    assert label("a b/c", "per_au__au_mae__aurig-ref") == "tab:a-b-c:per-au-au-mae-aurig-ref"


def test_every_table_is_shrunk_to_the_line_width_by_construction() -> None:
    results = make_results()
    for table in (build_summary(results), build_ablation(results)):
        tex = table_latex(table, "aurig-demo")
        env = "table*" if "\\begin{table*}" in tex else "table"
        fit = tex.index(r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%")
        assert tex.index(f"\\begin{{{env}}}") < fit < tex.index(r"\begin{tabular}")
        assert tex.rstrip().endswith(f"\\end{{tabular}}}}\n\\end{{{env}}}")
        assert r"\label{tab:aurig-demo:" in tex and r"\toprule" in tex and r"\bfseries" in tex
    wide = table_latex(build_summary(results), "p")
    assert "\\begin{table*}" in wide  # 8 metric columns: estimated wider than one column
    assert float(re.search(r"natural width about (\d+) pt", wide)[1]) > COLUMN_PT
    assert "\\begin{table}[" in table_latex(build_summary(results, ["au_mae"]), "p")  # one metric fits
    with pytest.raises(ValueError, match="placement"):
        table_latex(build_summary(results), "p", "margin")


def test_a_table_wider_than_the_page_is_split_into_main_and_extra_metrics() -> None:
    from faceedit_bench.api.aus import AU_NAMES

    results = make_results()
    table = build_summary(results, ["au_mae", "psnr", *(f"au_mae_{au}" for au in AU_NAMES)])
    tex = table_latex(table, "p")
    widths = [float(w) for w in re.findall(r"natural width about (\d+) pt", tex)]
    assert len(widths) >= 2 and max(widths) <= PAGE_PT
    labels = re.findall(r"\\label\{([^}]*)\}", tex)
    assert labels[:2] == ["tab:p:summary", "tab:p:summary-extra1"]
    assert tex.count(r"\begin{tabular}") == len(widths) == len(labels)
    assert "(main metrics)" in tex and "(extra metrics)" in tex
    assert [c for part in split_columns(table) for c in part] == list(table.values.columns)  # all, in order


def test_figures_tex_sizes_each_pdf_for_one_or_two_columns(tmp_path: Path) -> None:
    from faceedit_bench.reports.figures_style import COLUMN_W, WIDE_W, new_figure, save

    for name, width in (("narrow", COLUMN_W), ("wide", WIDE_W)):
        fig = new_figure(width, 1.5)
        fig.add_subplot().plot([0, 1], [1, 0])
        save(fig, tmp_path, name)
    assert pdf_width_in(tmp_path / "narrow.pdf") < 3.5 < pdf_width_in(tmp_path / "wide.pdf")
    tex = write_figures_tex(tmp_path, "aurig-demo").read_text()  # type: ignore[union-attr]
    assert "\\begin{figure}[tbp]\n\\centering\n\\includegraphics[width=\\columnwidth]{narrow.pdf}" in tex
    assert "\\begin{figure*}[tbp]\n\\centering\n\\includegraphics[width=\\textwidth]{wide.pdf}" in tex
    assert "\\label{fig:aurig-demo:wide}" in tex


def test_two_column_paper_compiles_without_overfull_or_duplicate_labels(
    pdflatex: str, run_dir: Path, tmp_path: Path
) -> None:
    inputs = []
    for tables in _two_protocols(run_dir, tmp_path):
        inputs += [f"\\input{{{tables / 'summary.tex'}}}", f"\\input{{{tables / 'ablation.tex'}}}"]
        inputs.append(f"\\input{{{tables / 'per_au__au_mae__aurig-ref.tex'}}}")
    log = compile_paper(pdflatex, tmp_path, inputs, "Facial expression editing. " * 60)
    pattern = r"Overfull|multiply|Float too large|undefined"
    problems = [line for line in log.splitlines() if re.search(pattern, line)]
    assert problems == []
    assert (tmp_path / "paper.pdf").stat().st_size > 10_000


def test_figure_captions_escape_the_protocol_name(tmp_path):
    """A protocol named to inject LaTeX (or just with an underscore) is typeset as text."""
    from faceedit_bench.reports.latex import figures_latex

    (tmp_path / "per_au.pdf").write_bytes(b"%PDF-1.4\n/MediaBox [0 0 200 100]\n")
    evil = r"ltx}\input{/etc/passwd}\immediate\write18{touch PWNED}"
    text = figures_latex(tmp_path, evil) + figures_latex(tmp_path, "my_faces")
    assert r"\input{/etc/passwd}" not in text and r"\immediate\write18" not in text
    assert r"my\_faces" in text


def test_comparison_tables_print_less_than_as_less_than(tmp_path):
    """``p <0.001`` must not typeset as ``¡0.001`` (a bare < in an OT1 text font)."""
    from faceedit_bench.reports.labels import latex_escape

    assert latex_escape("<0.001") == r"\textless{}0.001"
    assert latex_escape("a > b") == r"a \textgreater{} b"
