"""DataFrame -> GitHub Markdown table.

Uses ``DataFrame.to_markdown`` when its optional dependency ``tabulate`` is
installed; otherwise a minimal pipe-table writer with the same layout (header,
alignment row, one line per row), so reports work in either environment.
"""

from __future__ import annotations

import importlib.util

import pandas as pd


def has_tabulate() -> bool:
    return importlib.util.find_spec("tabulate") is not None


def to_markdown(df: pd.DataFrame, index: bool = True) -> str:
    """A GitHub pipe table of ``df`` (cells rendered with ``str``)."""
    if has_tabulate():
        return df.to_markdown(index=index, tablefmt="github")
    return _pipe_table(df, index)


def _pipe_table(df: pd.DataFrame, index: bool) -> str:
    headers = [str(c) for c in df.columns]
    rows = [[_cell(v) for v in row] for row in df.itertuples(index=False, name=None)]
    if index:
        headers.insert(0, str(df.index.name or ""))
        for label, row in zip(df.index, rows, strict=True):
            row.insert(0, _cell(label))
    numeric = [all(_is_number(r[i]) for r in rows) and rows != [] for i in range(len(headers))]
    widths = [max([len(h), 3, *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        padded = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric, strict=True)]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if num else ("-" * (w + 2)) for w, num in zip(widths, numeric, strict=True)
        )
        + "|"
    )
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def _cell(value: object) -> str:
    return str(value).replace("|", r"\|").replace("\n", " ")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
