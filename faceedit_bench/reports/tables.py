"""Summary, ablation and per-AU tables built from ``results.json`` with pandas.

One row per editor, one column per metric id ``key@backend`` (a column never mixes
backends), cells ``value ± half-CI``. Bold marks the run's significant winner of a
column (``comparisons.winners``: best and significantly better than every other competing
editor); without a comparisons block, the one best value (ties and a lone competitor are
never bold). Reference editors (identity, oracle) are shown as bounds and never marked best. Written as CSV (raw numbers, long form), Markdown and
LaTeX (booktabs, best in bold) by :func:`write_tables`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from faceedit_bench.io import write_text_atomic
from faceedit_bench.reports.attribution import write_attribution_table
from faceedit_bench.reports.au_coverage import au_coverage_notes
from faceedit_bench.reports.captions import table_caption
from faceedit_bench.reports.judge_audit import judge_audit_notes
from faceedit_bench.reports.labels import key_label, metric_label, protocol_heading
from faceedit_bench.reports.latex import table_latex
from faceedit_bench.reports.markdown import to_markdown
from faceedit_bench.reports.results import (
    MetricId,
    editor_names,
    higher_is_better,
    is_primary,
    load_results,
    metric_cell,
    metric_ids,
    results_path,
    unavailable_editors,
)
from faceedit_bench.reports.stats_tables import (
    failure_notes,
    floor_notes,
    miss_notes,
    pooled_view,
    significant_winner,
    supervision_notes,
    write_stats_tables,
)
from faceedit_bench.reports.table import COMPETING_ROLES, Table

__all__ = [
    "Table",
    "ablation_table",
    "build_ablation",
    "build_per_au",
    "build_summary",
    "load_results",
    "per_au_table",
    "summary_table",
    "write_tables",
]

_RAW_COLUMNS = [
    "editor",
    "group",
    "status",
    "metric",
    "key",
    "backend",
    "value",
    "ci_lo",
    "ci_hi",
    "n",
    "higher_is_better",
    "best",
]


def _role(entry: dict[str, Any], compete: tuple[str, ...]) -> str:
    group = entry["group"]
    if group in compete:
        return group
    return "reference (bound)" if group == "reference" else f"{group} (for reference)"


def _select(results: dict[str, Any], keys: list[str] | None, editors: list[str]) -> list[MetricId]:
    """Metric columns: ``keys`` given as ids (``psnr@exact``) or bare keys (all backends)."""
    available = metric_ids(results, editors)
    if keys is None:
        return [m for m in available if is_primary(results, m)]
    chosen: list[MetricId] = []
    for k in keys:
        matches = [m for m in available if k in (m.id, m.key)]
        if not matches:
            known = ", ".join(m.id for m in available)
            raise ValueError(f"no metric {k!r} in the results; known: {known}")
        chosen += [m for m in matches if m not in chosen]
    return chosen


def build_table(
    results: dict[str, Any],
    editors: list[str],
    mids: list[MetricId],
    name: str,
    title: str,
    headers: dict[str, tuple[str, str]] | None = None,
    column_ids: list[str] | None = None,
    compete: tuple[str, ...] = COMPETING_ROLES,
) -> Table:
    """Collect numbers for ``editors`` x ``mids``; mark the best cell among groups in ``compete``."""
    cols = column_ids or [m.id for m in mids]
    values, half, raw = _collect(results, editors, dict(zip(cols, mids, strict=True)))
    candidates = [e for e in editors if results["editors"][e]["group"] in compete]
    best = _mark_best(values, candidates, [higher_is_better(results, m) for m in mids])
    if results.get("comparisons") is not None:  # bold only a significant winner
        for col, mid in zip(cols, mids, strict=True):
            winner = significant_winner(results, mid.id)
            best[col] = [e == winner and bool(best.loc[e, col]) for e in best.index]
    raw["best"] = [
        bool(best.loc[e, c]) for e, c in zip(raw.pop("editor_row"), raw.pop("column"), strict=True)
    ]
    hdrs = headers or {
        m.id: (metric_label(m, higher_is_better(results, m), backend=False), m.backend) for m in mids
    }
    roles = pd.Series({e: _role(results["editors"][e], compete) for e in editors})
    groups = tuple({results["editors"][e]["group"] for e in editors} | set(compete))
    return Table(name, title, values, half, best, hdrs, roles, raw, unavailable_editors(results, groups))


def _collect(
    results: dict[str, Any], editors: list[str], columns: dict[str, MetricId]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(values, half-CI widths, long-form raw rows) for ``editors`` x ``columns``."""
    values = pd.DataFrame(np.nan, index=editors, columns=list(columns))
    half = values.copy()
    rows = []
    for editor in editors:
        entry = results["editors"][editor]
        for col, mid in columns.items():
            metric = entry.get("metrics", {}).get(mid.id)
            if metric is None:
                continue
            cell = metric_cell(metric)
            values.loc[editor, col], half.loc[editor, col] = cell.value, cell.half_ci
            rows.append({
                "editor": editor, "group": entry["group"], "status": entry.get("status", "ok"),
                "metric": mid.id, "key": mid.key, "backend": mid.backend, "value": cell.value,
                "ci_lo": cell.ci_lo, "ci_hi": cell.ci_hi, "n": cell.n, "higher_is_better": cell.higher_is_better,
                "editor_row": editor, "column": col,
            })  # fmt: skip
    raw = pd.DataFrame(rows, columns=[*_RAW_COLUMNS[:-1], "editor_row", "column"])
    return values, half, raw


def _mark_best(values: pd.DataFrame, candidates: list[str], higher: list[bool]) -> pd.DataFrame:
    """True where one candidate row alone holds its column's best value: a tie is never
    marked, nor a column with fewer than two competing values (nothing to beat)."""
    best = pd.DataFrame(False, index=values.index, columns=values.columns)
    for col, hib in zip(values.columns, higher, strict=True):
        column = values.loc[candidates, col].dropna()
        if len(column) < 2:
            continue
        target = column.max() if hib else column.min()
        at_best = column.index[np.isclose(column.to_numpy(), target, rtol=0, atol=1e-12)]
        if len(at_best) == 1:
            best.loc[at_best, col] = True
    return best


def build_summary(results: dict[str, Any], keys: list[str] | None = None) -> Table:
    """All editors (reference bounds included) x primary metrics (or ``keys``)."""
    editors = editor_names(results)
    title = f"{protocol_heading(results['protocol'])}: summary"
    table = build_table(results, editors, _select(results, keys, editors), "summary", title)
    table.kind = "summary"
    return table


def ablation_editors(results: dict[str, Any]) -> list[str]:
    """Two-stage variants (the two-stage group), empty when the run has fewer than two: no ablation."""
    variants = editor_names(results, ("two-stage",))
    return variants if len(variants) >= 2 else []


def build_ablation(results: dict[str, Any], keys: list[str] | None = None) -> Table:
    """Two-stage variants (best marked among them), then the baseline(s) for reference."""
    editors = editor_names(results, ("two-stage",)) + editor_names(results, ("baseline",))
    title = f"{protocol_heading(results['protocol'])}: ablation"
    mids = _select(results, keys, editors)
    table = build_table(results, editors, mids, "ablation", title, compete=("two-stage",))
    table.kind = "ablation"
    return table


def build_per_au(results: dict[str, Any]) -> list[Table]:
    """One table per per-AU metric family (e.g. ``au_mae_AUxx@aurig-ref``): editors x AUs."""
    editors = editor_names(results)
    families: dict[tuple[str, str], list[MetricId]] = {}
    for mid in metric_ids(results, editors):
        if mid.per_au is not None:
            families.setdefault((mid.per_au[0], mid.backend), []).append(mid)
    tables = []
    for (base, backend), mids in families.items():
        mids = sorted(mids, key=lambda m: m.per_au[1])  # type: ignore[index]
        aus = [m.per_au[1] for m in mids]  # type: ignore[index]
        family = MetricId(base, backend)
        hib = higher_is_better(results, mids[0])
        title = f"{protocol_heading(results['protocol'])}: per-AU {metric_label(family, hib)}"
        headers = {au: (au, "") for au in aus}
        table = build_table(results, editors, mids, f"per_au__{base}__{backend}", title, headers, aus)
        table.transpose = True
        table.kind = "per_au"
        tables.append(table)
    return tables


def summary_table(results: dict[str, Any], keys: list[str] | None = None) -> pd.DataFrame:
    """Summary as formatted strings; best per column in ``**bold**`` (see :class:`Table`)."""
    return build_summary(results, keys).display()


def ablation_table(results: dict[str, Any], keys: list[str] | None = None) -> pd.DataFrame:
    """Ablation (two-stage variants + baseline) as formatted strings, best in bold."""
    return build_ablation(results, keys).display()


def per_au_table(results: dict[str, Any], metric: str | None = None) -> pd.DataFrame:
    """Per-AU table of one family (``"au_mae@aurig-ref"``; default the first found)."""
    tables = build_per_au(results)
    if not tables:
        raise ValueError("the results have no per-AU metrics (keys like 'au_mae_AU12@backend')")
    if metric is None:
        table = tables[0]
    else:
        mid = MetricId.parse(metric)
        wanted = f"per_au__{mid.key}__{mid.backend}"
        matches = [t for t in tables if t.name == wanted]
        if not matches:
            known = ", ".join(t.name.removeprefix("per_au__").replace("__", "@") for t in tables)
            raise ValueError(f"no per-AU family {metric!r}; known: {known}")
        table = matches[0]
    out = table.display()
    out.columns.name = table.title
    return out


def select_editors(results: dict[str, Any], editors: list[str]) -> dict[str, Any]:
    """A copy of ``results`` with only ``editors`` (names, or a seeded editor's base name), in that
    order; the seeds and comparisons blocks keep only rows between chosen editors."""
    known = list(results["editors"])
    bases = {e.get("seed_of") for e in results["editors"].values()} - {None}
    unknown = [e for e in editors if e not in known and e not in bases]
    if unknown:
        raise ValueError(
            f"--editors: no editor {', '.join(unknown)} in the results; known: {', '.join(known)}"
        )
    out = dict(results)
    out["editors"] = {
        name: entry
        for want in editors
        for name, entry in results["editors"].items()
        if name == want or entry.get("seed_of") == want
    }
    chosen = set(editors) | set(out["editors"])
    out["seeds"] = {b: s for b, s in (results.get("seeds") or {}).items() if b in chosen}
    if results.get("comparisons") is not None:
        block = dict(results["comparisons"])
        block["rows"] = [r for r in block["rows"] if r["editor"] in chosen and r["reference"] in chosen]
        out["comparisons"] = block
    return out


def _metric_filter(results: dict[str, Any], editors: list[str], keys: list[str] | None) -> list[str] | None:
    """``keys`` less those no editor of ``editors`` reports (None: all)."""
    if keys is None:
        return None
    ids = metric_ids(results, editors)
    return [k for k in keys if any(k in (m.id, m.key) for m in ids)]


def _family_wanted(table: Table, keys: list[str] | None) -> bool:
    if keys is None:
        return True
    base, backend = table.name.removeprefix("per_au__").split("__", 1)
    return any(k in (base, f"{base}@{backend}") for k in keys)


def write_tables(
    run_dir: str | Path,
    out_dir: str | Path | None = None,
    editors: list[str] | None = None,
    metrics: list[str] | None = None,
    digits: int | None = None,
) -> list[Path]:
    """Write summary, ablation (when the run has two-stage variants) and per-AU tables, and the
    comparisons and seeds tables, as CSV, Markdown and LaTeX; return the paths.

    ``editors`` (rows, in that order), ``metrics`` (ids ``key@backend`` or bare keys, in that
    order; per-AU families by their base key) and ``digits`` (decimals of every cell) choose
    what is shown; by default everything the run has, decimals from the interval widths."""
    if digits is not None and not 0 <= digits <= 8:
        raise ValueError(f"--digits must be 0..8, got {digits}")
    full = load_results(run_dir)
    if editors is not None:
        full = select_editors(full, editors)
    results = pooled_view(full)  # one row per editor; its seeds are in tables/seeds.*
    out = Path(out_dir) if out_dir is not None else results_path(run_dir).parent / "tables"
    tables = [build_summary(results, metrics)]
    variants = ablation_editors(results)
    if variants:
        keys = _metric_filter(results, variants, metrics)
        if keys is None or keys:
            tables.append(build_ablation(results, keys))
    tables += [t for t in build_per_au(results) if _family_wanted(t, metrics)]
    written: list[Path] = []
    for table in tables:
        table.digits = digits
        if table.values.empty or table.values.shape[1] == 0:
            print(f"table {table.name}: skipped (no editors or metrics)")
            continue
        written += _write_one(table, out, full)
    stats = write_stats_tables(full, out, digits=digits, metrics=metrics)
    return written + stats + write_attribution_table(full, out)


def table_notes(table: Table, results: dict[str, Any] | None = None) -> list[str]:
    """Reading notes printed under the Markdown table."""
    comparisons = (results or {}).get("comparisons")
    notes = [
        "value ± half-width of the 95% bootstrap interval; – = not reported; [..] = backend that measured it",
        "**bold** = the one best value per column (direction from the arrow); ties and columns with a "
        "single competing editor are not bold"
        if comparisons is None
        else "**bold** = best per column and significantly better than every other competing editor: "
        + comparisons["rule"]
        + "; no bold = the best is not separable from the runner-up (tables/comparisons.md)",
    ]
    if table.name == "summary":
        notes += [f"merged runs: {n}" for n in ((results or {}).get("merge") or {}).get("notes", [])]
    notes += supervision_notes(results or {}, list(table.values.index))
    notes += failure_notes(results or {}, list(table.values.index))
    notes += miss_notes(results or {}, list(table.values.index))
    headline = (results or {}).get("headline")
    if headline and table.name == "summary":
        notes.append(f"headline: {headline['metric']} ({headline['definition']})")
    agreement = ((results or {}).get("comparisons") or {}).get("judge_agreement")
    if agreement:
        notes.append(
            f"AU judges {' and '.join(agreement['judges'])}: {agreement['rule']} (tables/comparisons.md)"
        )
    notes += au_coverage_notes(results or {})
    notes += floor_notes(results or {}, list(table.values.columns))
    if table.name == "summary":
        notes += judge_audit_notes(results or {})
    seeded = [e for e in table.values.index if (results or {}).get("seeds", {}).get(e)]
    if seeded:
        notes.append(
            f"{', '.join(seeded)}: mean over training seeds, interval over pairs × seeds (tables/seeds.md)"
        )
    refs = [e for e, role in table.row_labels.items() if "reference" in role]
    if refs:
        notes.append(f"{', '.join(refs)}: shown for reference (bounds or baseline), never marked best")
    notes += [f"not in the table: {e} ({reason})" for e, reason in table.unavailable.items()]
    return notes


def _write_one(table: Table, out: Path, results: dict[str, Any] | None = None) -> list[Path]:
    paths = [out / f"{table.name}.csv", out / f"{table.name}.md", out / f"{table.name}.tex"]
    write_text_atomic(paths[0], table.raw.to_csv(index=False))
    notes = "".join(f"- {n}\n" for n in table_notes(table, results))
    write_text_atomic(paths[1], f"**{table.title}**\n\n{to_markdown(table.display())}\n\n{notes}")
    latex_notes = failure_notes(results or {}, list(table.values.index))
    if (results or {}).get("supervision", {}).get("mixed"):  # a paper must not hide it
        latex_notes += supervision_notes(results or {}, list(table.values.index))
    if table.name == "summary":
        latex_notes += judge_audit_notes(results or {})
    data = results or {"protocol": {"name": "", "version": "?"}}
    family = ""
    if table.kind == "per_au":
        base, backend = table.name.removeprefix("per_au__").split("__", 1)
        family = f"{key_label(base)} ({backend})"

    def caption(part: int, parts: int) -> str:
        return table_caption(table.kind or table.name, data, part=(part, parts), family=family)

    text = table_latex(table, data["protocol"].get("name", ""), notes=latex_notes or None, caption=caption)
    write_text_atomic(paths[2], f"% labels: {', '.join(_labels(text))} (docs/paper-tables.md)\n{text}")
    return paths


def _labels(tex: str) -> list[str]:
    import re

    return re.findall(r"\\label\{([^}]*)\}", tex)
