"""Paper-ready LaTeX: tables that fit their column or page by construction, unique labels.

Each table is a booktabs ``tabular`` (pandas' Styler, best cells in bold) inside
``\\resizebox{\\ifdim\\width>\\linewidth\\linewidth\\else\\width\\fi}{!}{...}``: a table
never overflows (it shrinks to the line width) and is never blown up. A table whose
estimated natural width fits one column of a two-column paper goes in ``table``,
a wider one in ``table*`` (full page width); one wider than the page is split into
main and extra metrics (editor and group columns repeated), so it is shrunk little.
Labels are ``tab:<protocol>:<table>`` (``tab:aurig-demo:summary``): two protocols in
one paper never clash. Figures get the same treatment in ``figures.tex``: each PDF in
``figure`` or ``figure*`` by its width (they are drawn 3.3 in or 7.0 in wide, see
:mod:`faceedit_bench.reports.figures_style`), labelled ``fig:<protocol>:<name>``.
The document needs ``\\usepackage{booktabs,graphicx}``.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from faceedit_bench.io import write_text_atomic
from faceedit_bench.reports.labels import format_cell, latex_escape
from faceedit_bench.reports.table import COMPETING_ROLES, Table

COLUMN_PT = 240.0  # one column of a two-column paper (IEEE 252 pt, ACM 241 pt, CVPR 237 pt)
PAGE_PT = 500.0  # both columns (IEEE 516 pt, ACM 506 pt, CVPR 496 pt)
CHAR_PT = 4.6  # average glyph width of \small Computer Modern digits and lower case
TABCOLSEP_PT = 3.0
COLUMN_FIGURE_IN = 3.5  # PDFs up to this wide go in a one-column float
PREAMBLE = r"% needs \usepackage{booktabs,graphicx}"
_FIT = r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%"


def label(protocol: str, name: str, kind: str = "tab") -> str:
    """``tab:aurig-demo:summary``: unique per protocol and table, safe as a LaTeX label."""
    clean = [re.sub(r"[^A-Za-z0-9.-]+", "-", part).strip("-") for part in (protocol, name)]
    return ":".join([kind, *(c for c in clean if c)])


def latex_cells(table: Table) -> tuple[pd.DataFrame, np.ndarray]:
    """LaTeX-escaped cells (group column first, two header rows: label and [backend]) and the bold mask."""
    cells = {("group", ""): [latex_escape(str(g)) for g in table.row_labels]}
    bold = [np.zeros(len(table.values), bool)]
    for col in table.values.columns:
        dec = table.decimals(col)
        name, backend = table.headers[col]
        key = (latex_escape(name), latex_escape(f"[{backend}]") if backend else "")
        cells[key] = [
            latex_escape(format_cell(v, h, dec))
            for v, h in zip(table.values[col], table.half_ci[col], strict=True)
        ]
        bold.append(table.best[col].to_numpy())
    shown = pd.DataFrame(cells, index=[latex_escape(str(i)) for i in table.values.index])
    shown.columns = pd.MultiIndex.from_tuples(list(cells))
    if not any(sub for _, sub in cells):
        shown.columns = [top for top, _ in cells]
    return shown, np.stack(bold, axis=1)


def _shown(table: Table) -> tuple[pd.DataFrame, np.ndarray, int]:
    """Cells, bold mask and number of text columns (transposed for per-AU tables)."""
    shown, mask = latex_cells(table)
    if not table.transpose:
        return shown, mask, 2
    ref = ["" if role in COMPETING_ROLES else " (ref.)" for role in table.row_labels]
    shown = shown.drop(columns=shown.columns[0]).T
    shown.columns = [f"{c}{r}" for c, r in zip(shown.columns, ref, strict=True)]
    shown.index = [top for top, *_ in shown.index] if shown.index.nlevels > 1 else shown.index
    return shown, mask[:, 1:].T, 1


def tabular(table: Table) -> tuple[str, float]:
    """The booktabs ``tabular`` and its estimated natural width in pt (at ``\\small``)."""
    shown, mask, n_text = _shown(table)
    styler = shown.style.apply(lambda _: np.where(mask, "font-weight: bold;", ""), axis=None)
    body = styler.to_latex(
        hrules=True,
        convert_css=True,
        multicol_align="c",
        column_format="l" * n_text + "r" * (shown.shape[1] - n_text + 1),
    )
    return body, estimate_width(shown)


def _visible(text: str) -> str:
    """Roughly what a cell prints: commands and math markers dropped, ``$\\pm$`` as one glyph."""
    text = re.sub(r"\$\\(pm|uparrow|downarrow)\$", "x", text)
    text = re.sub(r"\\[A-Za-z]+|[{}$\\]", "", text)
    return text


def column_widths(shown: pd.DataFrame) -> list[float]:
    """Natural width in pt of the index and of each column: longest visible cell or header line."""
    columns = [list(shown.index)] + [list(shown[c]) for c in shown.columns]
    headers = [[""]] + [list(c) if isinstance(c, tuple) else [c] for c in shown.columns]
    return [
        max(len(_visible(str(t))) for t in [*cells, *head]) * CHAR_PT + 2 * TABCOLSEP_PT
        for cells, head in zip(columns, headers, strict=True)
    ]


def estimate_width(shown: pd.DataFrame) -> float:
    """Natural width in pt of the whole table."""
    return sum(column_widths(shown))


def split_columns(table: Table, limit: float = PAGE_PT) -> list[list[str]]:
    """Metric columns in order, in as few parts as keep each part's estimated width under
    ``limit``, balanced so that no part is left with a lone column when a fairer cut exists
    (FID and KID stay side by side rather than KID alone in a table)."""
    widths = column_widths(latex_cells(table)[0])
    fixed, cols = widths[0] + widths[1], list(table.values.columns)  # editor and group repeat
    parts, used = [[]], 0.0
    for col, width in zip(cols, widths[2:], strict=True):  # greedy: the fewest parts
        if parts[-1] and fixed + used + width > limit:
            parts.append([])
            used = 0.0
        parts[-1].append(col)
        used += width
    if len(parts) == 1:
        return parts
    return _balanced(cols, widths[2:], len(parts), limit - fixed) or parts


def _balanced(cols: list[str], widths: list[float], k: int, room: float) -> list[list[str]] | None:
    """``cols`` cut in order into ``k`` parts of at most ``room`` pt minimising the widest part
    (ties: the largest smallest part); None when no such cut exists."""
    n = len(cols)
    prefix = [0.0]
    for w in widths:
        prefix.append(prefix[-1] + w)
    best: dict[tuple[int, int], tuple[float, int, list[int]] | None] = {}

    def solve(start: int, parts: int) -> tuple[float, int, list[int]] | None:
        if (start, parts) in best:
            return best[start, parts]
        out = None
        if parts == 1:
            width = prefix[n] - prefix[start]
            out = (width, n - start, []) if width <= room else None
        else:
            for end in range(start + 1, n - parts + 2):
                width = prefix[end] - prefix[start]
                if width > room:
                    break
                rest = solve(end, parts - 1)
                if rest is None:
                    continue
                cand = (max(width, rest[0]), min(end - start, rest[1]), [end, *rest[2]])
                if out is None or (cand[0], -cand[1]) < (out[0], -out[1]):
                    out = cand
        best[start, parts] = out
        return out

    got = solve(0, k)
    if got is None:
        return None
    cuts = [0, *got[2], n]
    return [cols[a:b] for a, b in itertools.pairwise(cuts)]


def _part(table: Table, columns: list[str], index: int, count: int) -> Table:
    """The table restricted to ``columns``; parts after the first get ``-extra`` names."""
    name = table.name if index == 0 else f"{table.name}-extra{index if count > 2 else ''}"
    title = table.title if count == 1 else f"{table.title} ({'main' if index == 0 else 'extra'} metrics)"
    return dataclasses.replace(
        table, name=name, title=title, values=table.values[columns], half_ci=table.half_ci[columns],
        best=table.best[columns], headers={c: table.headers[c] for c in columns},
    )  # fmt: skip


Caption = Callable[[int, int], str]  # (part, of parts) -> caption text


def table_latex(
    table: Table,
    protocol: str,
    placement: str = "auto",
    notes: list[str] | None = None,
    caption: Caption | None = None,
) -> str:
    """Floats holding ``table``: ``table`` or ``table*`` (``placement`` auto, column or page);
    in auto, a table wider than a page is split into main and extra metrics. ``notes``
    (plain text, escaped here) go under the first float; ``caption(part, parts)`` gives each
    float's caption (default: the table's title)."""
    if placement not in ("auto", "column", "page"):
        raise ValueError(f"placement must be auto, column or page, got {placement!r}")
    parts = [list(table.values.columns)] if table.transpose or placement != "auto" else split_columns(table)
    return "".join(
        _float(
            _part(table, cols, i, len(parts)),
            protocol,
            placement,
            notes if i == 0 else None,
            None if caption is None else caption(i + 1, len(parts)),
        )
        for i, cols in enumerate(parts)
    )


def _float(
    table: Table, protocol: str, placement: str, notes: list[str] | None = None, caption: str | None = None
) -> str:
    body, width = tabular(table)
    return table_float(body, width, caption or table.title, label(protocol, table.name), placement, notes)


def table_float(
    body: str,
    width: float,
    title: str,
    tex_label: str,
    placement: str = "auto",
    notes: list[str] | None = None,
) -> str:
    """A ``tabular`` ``body`` of natural ``width`` pt in ``table`` or ``table*`` (by width when
    ``placement`` is auto), captioned, labelled and shrunk to the line width if wider;
    ``notes`` (plain text, escaped here) in small type under it."""
    wide = placement == "page" or (placement == "auto" and width > COLUMN_PT)
    env = "table*" if wide else "table"
    text = " \\\\ ".join(latex_escape(n) for n in notes or [])
    below = [f"\\par\\smallskip{{\\footnotesize\\raggedright {text}\\par}}"] if notes else []
    return "\n".join([
        f"{PREAMBLE}; natural width about {width:.0f} pt, shrunk to the line width if wider",
        f"\\begin{{{env}}}[tbp]",
        "\\centering",
        f"\\caption{{{latex_escape(title)}}}",
        f"\\label{{{tex_label}}}",
        "\\smallskip",  # a caption above a table: some classes put no space under it
        "\\small\\setlength{\\tabcolsep}{3pt}%",
        _FIT,
        body.rstrip("\n") + "}",
        *below,
        f"\\end{{{env}}}",
        "",
    ])  # fmt: skip


FIGURE_ORDER = ("qualitative", "inside", "sweep_", "per_au__", "fid_vs_au_error", "attribution", "training_")


def _figure_rank(stem: str) -> tuple[int, str]:
    for i, prefix in enumerate(FIGURE_ORDER):
        if stem == prefix or (prefix.endswith("_") and stem.startswith(prefix)):
            return i, stem
    return len(FIGURE_ORDER), stem


def figures_latex(figures_dir: Path, protocol: str, results: dict[str, Any] | None = None) -> str:
    """``figure``/``figure*`` floats for every PDF in ``figures_dir``, sized by the PDF's width,
    in reading order (qualitative first), each with a caption saying what it shows
    (:func:`faceedit_bench.reports.captions.figure_caption`) and the label ``fig:<protocol>:<stem>``."""
    from faceedit_bench.reports.captions import figure_caption

    results = results or {"protocol": {"name": protocol, "version": "?"}}
    blocks = [PREAMBLE + "; labels: fig:<protocol>:<file stem> (docs/paper-tables.md)"]
    for pdf in sorted(figures_dir.glob("*.pdf"), key=lambda p: _figure_rank(p.stem)):
        wide = pdf_width_in(pdf) > COLUMN_FIGURE_IN
        env, width = ("figure*", r"\textwidth") if wide else ("figure", r"\columnwidth")
        blocks += [
            f"\\begin{{{env}}}[tbp]",
            "\\centering",
            f"\\includegraphics[width={width}]{{{pdf.name}}}",
            f"\\caption{{{latex_escape(figure_caption(pdf.stem, results))}}}",
            f"\\label{{{label(protocol, pdf.stem, 'fig')}}}",
            f"\\end{{{env}}}",
        ]
    return "\n".join(blocks) + "\n"


def pdf_width_in(pdf: Path) -> float:
    """Width in inches of a PDF's first page (its MediaBox), as matplotlib writes it."""
    head = pdf.read_bytes()
    match = re.search(rb"/MediaBox\s*\[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*\]", head)
    if match is None:
        raise ValueError(f"{pdf}: no /MediaBox found")
    return (float(match[3]) - float(match[1])) / 72.0


def write_figures_tex(figures_dir: Path, protocol: str, results: dict[str, Any] | None = None) -> Path | None:
    """Write ``figures.tex`` beside the PDFs (``\\input`` it from the paper); None without PDFs."""
    if not any(figures_dir.glob("*.pdf")):
        return None
    path = figures_dir / "figures.tex"
    write_text_atomic(path, figures_latex(figures_dir, protocol, results))
    return path


# Rows per float: at \\small about 11.5 pt a row, 36 rows and a caption stay well inside a page.
MAX_LATEX_ROWS = 36


def row_chunks(df: pd.DataFrame, group: str, max_rows: int = MAX_LATEX_ROWS) -> list[pd.DataFrame]:
    """``df`` cut into pieces of at most ``max_rows`` rows, only between blocks of ``group``.

    Whole blocks are packed greedily. A block taller than ``max_rows`` alone is cut into
    equal parts (the fewest that fit), never leaving a part of one row; a lone one-row
    piece joins its neighbour (one row over ``max_rows`` still fits a page).
    """
    chunks: list[pd.DataFrame] = []
    current: list[pd.DataFrame] = []
    for _, rows in df.groupby(group, sort=False):
        n_parts = -(-len(rows) // max_rows)
        size = -(-len(rows) // n_parts)
        pieces = [rows.iloc[i : i + size] for i in range(0, len(rows), size)]
        for piece in pieces:
            if current and sum(map(len, current)) + len(piece) > max_rows:
                chunks.append(pd.concat(current))
                current = []
            current.append(piece)
    if current:
        chunks.append(pd.concat(current))
    for i in range(len(chunks) - 1, -1, -1):  # no one-row part
        if len(chunks) > 1 and len(chunks[i]) == 1:
            j = i - 1 if i > 0 else 1
            merged = pd.concat([chunks[j], chunks[i]] if j < i else [chunks[i], chunks[j]])
            chunks[min(i, j)] = merged
            del chunks[max(i, j)]
    return chunks


def frame_latex(df: pd.DataFrame, caption: str | Caption, protocol: str, name: str, group: str) -> str:
    """The frame as booktabs floats sized and labelled (``tab:<protocol>:<name>``) like every other
    table; a frame taller than a page becomes several floats (``<name>-2``, ...), cut only
    between blocks of ``group`` (:func:`row_chunks`). ``caption`` is text or ``(part, parts) -> text``."""
    chunks = row_chunks(df, group)
    floats = []
    for k, chunk in enumerate(chunks, start=1):
        shown = chunk.map(lambda v: latex_escape(str(v)))
        shown.columns = [latex_escape(str(c)) for c in chunk.columns]
        body = shown.style.hide(axis="index").to_latex(hrules=True, column_format="l" * chunk.shape[1])
        width = estimate_width(shown.set_index(shown.columns[0]))
        if callable(caption):
            title = caption(k, len(chunks))
        else:
            title = caption if len(chunks) == 1 else f"{caption} (part {k} of {len(chunks)})"
        tex_label = label(protocol, name if k == 1 else f"{name}-{k}")
        floats.append(table_float(body, width, title, tex_label))
    return "".join(floats)
