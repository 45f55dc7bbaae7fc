"""The numbers of one table and what is needed to render them in any format (Markdown, LaTeX, HTML).

Built by :mod:`faceedit_bench.reports.tables`; rendered by :mod:`.tables` (Markdown, CSV),
:mod:`.latex` and :mod:`.html`. It sits below all of them so that none imports another.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from faceedit_bench.reports.labels import decimals_for, format_cell

# editor groups that compete for "best"; the others are bounds or shown for reference
COMPETING_ROLES = ("two-stage", "baseline", "external")


@dataclass
class Table:
    """Numbers of one table plus what is needed to render it in any format."""

    name: str
    title: str
    values: pd.DataFrame  # editor x column id, float (NaN = absent)
    half_ci: pd.DataFrame  # same shape, NaN where no interval
    best: pd.DataFrame  # same shape, bool
    headers: dict[str, tuple[str, str]]  # column id -> (label, backend or '')
    row_labels: pd.Series  # editor -> role shown in the "group" column
    raw: pd.DataFrame  # long form: one row per (editor, metric) with raw numbers
    unavailable: dict[str, str] = field(default_factory=dict)  # editor -> "status: reason"
    transpose: bool = False  # LaTeX with editors as columns (per-AU tables: 17 rows fit a page)
    digits: int | None = None  # decimals of every cell (None: per column, from the interval widths)
    kind: str = ""  # summary, ablation or per_au: picks the caption (reports.captions)

    def decimals(self, col: str) -> int:
        """Decimals of column ``col``: :attr:`digits`, else from its values and interval widths."""
        if self.digits is not None:
            return self.digits
        return decimals_for(self.values[col], self.half_ci[col])

    def display(self, bold: str = "**") -> pd.DataFrame:
        """Formatted strings (``value ± half``), best cells wrapped in ``bold``."""
        out = pd.DataFrame(index=self.values.index)
        out.index.name = "editor"
        out["group"] = self.row_labels
        for col in self.values.columns:
            dec = self.decimals(col)
            cells = [
                bold_if(format_cell(v, h, dec), b, bold)
                for v, h, b in zip(self.values[col], self.half_ci[col], self.best[col], strict=True)
            ]
            out[self.header(col)] = cells
        return out

    def header(self, col: str) -> str:
        """One-line header: ``AU MAE ↓ [aurig-ref]``."""
        label, backend = self.headers[col]
        return f"{label} [{backend}]" if backend else label


def bold_if(text: str, best: bool, bold: str) -> str:
    return f"{bold}{text}{bold}" if best and bold else text
