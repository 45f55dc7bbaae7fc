"""Every table and figures.tex of a small run compile in a two-column paper: no overfull box,
no undefined reference; captions say what is shown, ± and bold, and the pair count."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd

from faceedit_bench.cli.main import main
from faceedit_bench.reports.figures import make_figures
from faceedit_bench.reports.latex import MAX_LATEX_ROWS, frame_latex
from faceedit_bench.reports.tables import write_tables


def document_class() -> str:
    """IEEEtran when installed (texlive-publishers; CI installs it and sets FACEEDIT_REQUIRE_PDFLATEX,
    which makes a missing class a failure); else a two-column article of similar measure."""
    found = shutil.which("kpsewhich")
    if found and subprocess.run([found, "IEEEtran.cls"], capture_output=True, text=True).stdout.strip():
        return "\\documentclass[conference]{IEEEtran}"
    assert not os.environ.get("FACEEDIT_REQUIRE_PDFLATEX"), (
        "IEEEtran.cls is not installed (texlive-publishers)"
    )
    return "\\documentclass[twocolumn,10pt]{article}\n\\usepackage[margin=0.7in,columnsep=0.2in]{geometry}"


def _paper(pdflatex: str, run: Path) -> tuple[str, list[str]]:
    inputs = [*sorted((run / "tables").glob("*.tex")), run / "figures" / "figures.tex"]
    labels = [lab for p in inputs for lab in re.findall(r"\\label\{([^}]+)\}", p.read_text())]
    refs = " ".join(f"See {'Fig.' if lab.startswith('fig:') else 'Table'}~\\ref{{{lab}}}." for lab in labels)
    body = "\n\n".join(
        f"Facial expression editing text. {refs if i == 0 else ''}\n\n\\input{{{p.relative_to(run).as_posix()}}}"
        for i, p in enumerate(inputs)
    )
    (run / "paper.tex").write_text(
        f"{document_class()}\n\\usepackage{{booktabs,graphicx}}\n\\graphicspath{{{{figures/}}}}\n"
        f"\\begin{{document}}\n{body}\n\\end{{document}}\n"
    )
    for _ in range(2):
        proc = subprocess.run(
            [pdflatex, "-interaction=nonstopmode", "-halt-on-error", "paper.tex"],
            cwd=run, capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stdout[-3000:]
    return (run / "paper.log").read_text(errors="replace"), labels


def test_every_table_and_figure_of_a_run_compiles_in_a_two_column_paper(
    pdflatex: str, run_dir: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    write_tables(run)
    make_figures(run)
    log, labels = _paper(pdflatex, run)
    problems = [
        line
        for line in log.splitlines()
        if re.search(r"Overfull \\hbox|undefined|multiply defined|Float too large", line)
    ]
    assert problems == []
    assert len(labels) == len(set(labels)) and "tab:aurig-demo:summary" in labels
    assert "fig:aurig-demo:qualitative" in labels
    assert (run / "paper.pdf").stat().st_size > 20_000


def test_captions_say_what_is_shown_and_how_to_read_it(run_dir: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    write_tables(run)
    make_figures(run, only=["per_au", "qualitative", "fid_vs_au_error"])
    summary = (run / "tables" / "summary.tex").read_text()
    caption = re.search(r"\\caption\{(.*)\}\n", summary)[1]
    assert "aurig-demo v1, 8 pairs" in caption and r"$\pm$" in caption and "Bold" in caption
    figures = (run / "figures" / "figures.tex").read_text()
    captions = re.findall(r"\\caption\{(.*)\}\n", figures)
    assert captions and all(c.endswith(".") and len(c.split()) >= 10 for c in captions)
    assert "per au  au mae" not in figures
    assert figures.index("qualitative.pdf") < figures.index("per_au__au_mae__aurig-ref.pdf")


def test_a_subset_run_says_so_in_every_caption(run_dir: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    data = json.loads((run / "results.json").read_text())
    data["protocol"].update(split="test", subset={"n": 8, "of": 200})
    (run / "results.json").write_text(json.dumps(data))
    for path in write_tables(run):
        if path.suffix == ".tex":
            assert all(
                "subset: 8 of 200 test pairs" in c for c in re.findall(r"\\caption\{(.*)\}", path.read_text())
            )


def test_no_ablation_table_for_a_run_without_two_stage_variants(run_dir: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    data = json.loads((run / "results.json").read_text())
    del data["editors"]["warp-only"], data["editors"]["two-stage-no-tv"]
    (run / "results.json").write_text(json.dumps(data))
    names = {p.name for p in write_tables(run)}
    assert "summary.tex" in names and not any(n.startswith("ablation") for n in names)


def test_comparisons_split_only_between_reference_blocks() -> None:
    rows = [
        (f"e{i}", ref) for ref, n in (("ganimation", 30), ("identity", 10), ("oracle", 1)) for i in range(n)
    ]
    df = pd.DataFrame(rows, columns=["editor", "vs"])
    tex = frame_latex(df, lambda k, n: f"part {k} of {n}", "p", "comparisons", "vs")
    parts = tex.split(r"\begin{tabular}")[1:]
    assert len(parts) == 2
    for part in parts:  # each reference block whole in one float; no one-row float
        n = len(re.findall(r"\\\\\n", part)) - 1
        assert 1 < n <= MAX_LATEX_ROWS + 1
    assert "ganimation" not in parts[1]


def test_tables_command_rebuilds_for_chosen_editors_metrics_and_digits(
    run_dir: Path, tmp_path: Path, capsys
) -> None:
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    write_tables(run)
    assert (run / "tables" / "ablation.tex").is_file()
    code = main(
        ["tables", str(run), "--editors", "two-stage", "ganimation", "--metrics", "psnr", "--digits", "1"]
    )
    assert code == 0
    summary = pd.read_csv(run / "tables" / "summary.csv")
    assert summary["editor"].tolist() == ["two-stage", "ganimation"] and set(summary["key"]) == {"psnr"}
    assert "25.1 $\\pm$ 0.4" in (run / "tables" / "summary.tex").read_text()
    assert not (
        run / "tables" / "ablation.tex"
    ).exists()  # one two-stage editor: no ablation, stale one removed
    assert main(["tables", str(run), "--metrics", "nope"]) == 2
    assert "no metric 'nope'" in capsys.readouterr().err
