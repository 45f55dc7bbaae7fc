"""CI regression report: compare a current ``results.json`` with a kept baseline.

For every editor and metric id in both files the change in the metric's bad direction
(``higher_is_better``) is judged by :data:`RULE`: it must exceed the baseline's own 95%
interval on that side (the distance from its value to the interval's bound: a change
the baseline's sampling uncertainty covers is no evidence) and the metric's fixed
tolerance (:mod:`faceedit_bench.reports.tolerances`), the floor for run-to-run float
noise; a metric without an interval is judged by the fixed tolerance alone and its row
says so. Only the baseline's interval counts, so a broken run cannot widen its own
allowance. (The baseline keeps no per-pair values, so no paired test across runs; the
paired comparisons *within* each run are compared as notes.)

An editor, metric or backend of the baseline that the current run lacks is a failure
(``MISSING``): a gate that passes when the two-stage editor failed to load proves
nothing. ``allow_missing`` lists them as removed instead. What only the current run has
is listed as added. Files from different protocols, or one key measured by different
backends, are refused: such numbers are not comparable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from faceedit_bench.io import write_bytes_atomic
from faceedit_bench.reports.comparable import (
    changed_systems,
    check_comparable,
    location_free,
)
from faceedit_bench.reports.markdown import to_markdown
from faceedit_bench.reports.results import MetricId, load_results, results_path
from faceedit_bench.reports.tolerances import Tolerance, Tolerances

RULE = (
    "a metric regresses when it is worse than the baseline by more than the baseline's 95% interval on that "
    "side (value to bound) and by more than its fixed tolerance (the floor for run-to-run noise); a metric "
    "without an interval is judged by the fixed tolerance alone (rule 'fixed ... (no interval)')"
)
FAIL_STATUSES = ("REGRESSION", "no value", "SAMPLES CHANGED")
MISSING_STATUSES = ("MISSING editor", "MISSING metric", "MISSING backend")
_CHANGED = ("added", "removed", "editor added", "editor removed", "backend removed")
VERDICT_ROWS = 10  # failing rows named on stdout; the rest are in the file


@dataclass
class Row:
    """One line of the report."""

    editor: str
    metric: str
    backend: str
    baseline: float | None
    current: float | None
    tolerance: float | None
    tolerance_rule: str
    status: str
    reason: str = ""  # why an editor or backend is absent
    tier: int = 1  # 0 headline, 1 summary metric, 2 per-AU / in- or out-of-mask / secondary (see rank)

    @property
    def delta(self) -> float | None:
        if self.baseline is None or self.current is None:
            return None
        return self.current - self.baseline

    @property
    def severity(self) -> float:
        """Size of the change relative to what was allowed (the interval side or the tolerance);
        infinite for a missing editor, metric or value or changed sample counts."""
        if self.status != "REGRESSION" or self.delta is None:
            return math.inf
        if not self.tolerance:
            return math.inf if self.delta else 0.0
        return abs(self.delta) / self.tolerance


def rank(rows: list[Row]) -> list[Row]:
    """Failing rows in the order a reader needs them: the run-level and headline rows, then
    summary metrics, then per-AU and in/out-of-mask rows; within each, the largest change
    relative to its allowance first (a FID regression far outside its interval comes before
    an AU row just past it)."""
    return sorted(rows, key=lambda r: (r.tier, -r.severity))


@dataclass
class RegressionReport:
    """The comparison of two results files."""

    baseline_path: str
    current_path: str
    tolerances: str
    protocol: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    headers: tuple[str, str] = ("", "")
    changed_systems: list[str] = field(default_factory=list)  # "system behind NAME changed: ..."

    @property
    def regressions(self) -> list[Row]:
        return [r for r in self.rows if r.status in FAIL_STATUSES]

    @property
    def missing(self) -> list[Row]:
        return [r for r in self.rows if r.status in MISSING_STATUSES]

    @property
    def exit_code(self) -> int:
        return 1 if self.regressions or self.missing else 0

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.rows:
            out[r.status] = out.get(r.status, 0) + 1
        return out

    def to_frame(self) -> pd.DataFrame:
        """Rows as a DataFrame with formatted numbers."""
        return pd.DataFrame(
            {
                "metric": [r.metric for r in self.rows],
                "backend": [r.backend for r in self.rows],
                "baseline": [_fmt(r.baseline) for r in self.rows],
                "current": [_fmt(r.current) for r in self.rows],
                "delta": [_fmt(r.delta, "+.4g") for r in self.rows],
                "allowed (rule)": [_fmt_tol(r) for r in self.rows],
                "status": [f"**{r.status}**" if r.status in _FAILING else r.status for r in self.rows],
            },
            index=pd.Index([r.editor for r in self.rows], name="editor"),
        )

    def verdict(self) -> str:
        """``PASS: ...`` or ``FAIL: N regression(s) beyond interval and tolerance, M missing``."""
        n_bad, n_missing = len(self.regressions), len(self.missing)
        if not n_bad and not n_missing:
            return "PASS: no regression beyond interval and tolerance, nothing missing"
        parts = [f"{n_bad} regression(s) beyond interval and tolerance"] if n_bad else []
        parts += [f"{n_missing} missing (editor, metric or backend of the baseline)"] if n_missing else []
        return "FAIL: " + ", ".join(parts)

    def short(self, full_report: str | Path | None = None) -> str:
        """A few lines for stdout: the verdict, what failed (first :data:`VERDICT_ROWS`), where the rest is."""
        counts = ", ".join(f"{k} {v}" for k, v in sorted(self.counts().items()))
        lines = [
            f"regression report {self.protocol}: {self.verdict()}",
            f"  baseline {self.baseline_path} {self.headers[0]}",
            f"  current  {self.current_path} {self.headers[1]}",
            f"  rows: {counts or 'none'}",
        ]
        lines += [f"  {c}" for c in self.changed_systems]
        failing = rank([r for r in self.rows if r.status in _FAILING])
        lines += [f"  {_describe(r)}" for r in failing[:VERDICT_ROWS]]
        if len(failing) > VERDICT_ROWS:
            rest = failing[VERDICT_ROWS:]
            tiers = sorted({r.tier for r in rest})
            what = " and ".join(
                ("summary" if t < 2 else "per-AU / in-out-of-mask / secondary") for t in tiers
            )
            lines.append(f"  ... and {len(rest)} more ({what} rows, smaller relative to their allowance)")
        if self.notes:
            lines.append(f"  {len(self.notes)} note(s) in the full report")
        if full_report is not None:
            lines.append(f"  full report: {full_report}")
        return "\n".join(lines) + "\n"

    def to_markdown(self) -> str:
        """The full Markdown report: header, verdict, one table per editor, notes."""
        verdict = f"**{self.verdict()}**"
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(self.counts().items()))
        lines = [
            f"# Regression report: {self.protocol}",
            "",
            f"- baseline: `{self.baseline_path}` {self.headers[0]}",
            f"- current: `{self.current_path}` {self.headers[1]}",
            f"- rule: {RULE}",
            f"- tolerances: `{self.tolerances}`",
            f"- result: {verdict}",
            f"- rows: {counts or 'none'}",
            "- order of failures: headline and summary metrics first, then per-AU and in/out-of-mask rows; "
            "within each the largest change relative to its allowance first",
        ]
        if self.changed_systems:
            lines += ["", "## Systems changed behind a name", "", *(f"- {c}" for c in self.changed_systems)]
        frame = self.to_frame()
        sections = (
            ("Regressions", FAIL_STATUSES),
            ("Missing", MISSING_STATUSES),
            ("Added or removed", _CHANGED),
        )
        position = {id(r): i for i, r in enumerate(self.rows)}
        for title, statuses in sections:
            picked = [position[id(r)] for r in rank([r for r in self.rows if r.status in statuses])]
            if picked:
                lines += ["", f"## {title}", "", to_markdown(frame.iloc[picked])]
        for editor in dict.fromkeys(r.editor for r in self.rows):
            lines += [
                "",
                f"## {editor}",
                "",
                to_markdown(frame.loc[[editor]].reset_index(drop=True), index=False),
            ]
        if self.notes:
            lines += ["", "## Notes", "", *(f"- {n}" for n in self.notes)]
        return "\n".join(lines) + "\n"


_FAILING = FAIL_STATUSES + MISSING_STATUSES


def _describe(row: Row) -> str:
    """One failing row in words."""
    where = f"{row.editor} {row.metric}@{row.backend}" if row.backend else f"{row.editor} {row.metric}"
    if row.status == "REGRESSION":
        return (f"REGRESSION {where}: {_fmt(row.baseline)} -> {_fmt(row.current)} "
                f"(change {_fmt(row.delta, '+.4g')}, allowed {_fmt_tol(row)})")  # fmt: skip
    if row.status == "no value":
        return f"NO VALUE {where}: {_fmt(row.baseline)} in the baseline, none now"
    return f"{row.status} {where}" + (f": {row.reason}" if row.reason else "")


def _fmt(x: float | None, spec: str = ".4g") -> str:
    return "–" if x is None else format(x, spec)


def _fmt_tol(row: Row) -> str:
    return "–" if row.tolerance is None else f"{row.tolerance:.3g} ({row.tolerance_rule})"


def _value(entry: dict[str, Any] | None) -> float | None:
    v = None if entry is None else entry.get("value")
    return float(v) if isinstance(v, int | float) and math.isfinite(v) else None


def compare_results(
    baseline: dict[str, Any],
    current: dict[str, Any],
    tolerances: Tolerances,
    names: tuple[str, str] = ("baseline", "current"),
    allow_missing: bool = False,
) -> RegressionReport:
    """Judge every (editor, metric id) of ``current`` against ``baseline``.

    What the baseline has and ``current`` lacks fails (``MISSING ...``) unless ``allow_missing``."""
    check_comparable(baseline, current, names)
    p = current["protocol"]
    report = RegressionReport(names[0], names[1], tolerances.source, f"{p['name']} v{p['version']}")
    report.headers = (_provenance(baseline), _provenance(current))
    for editor in dict.fromkeys([*baseline["editors"], *current["editors"]]):
        b, c = baseline["editors"].get(editor), current["editors"].get(editor)
        if not _usable(b) or not _usable(c):
            _editor_only_once(report, editor, b, c)
            continue
        _sample_counts(report, editor, b, c)
        bm, cm = b.get("metrics", {}), c.get("metrics", {})
        for metric_id in dict.fromkeys([*bm, *cm]):
            report.rows.append(
                _judge(editor, MetricId.parse(metric_id), bm.get(metric_id), cm.get(metric_id), tolerances)
            )
    _missing_backends(report, baseline, current)
    _set_tiers(report, current)
    report.changed_systems = changed_systems(baseline, current)
    _backend_notes(report, baseline, current)
    _comparison_notes(report, baseline, current)
    if not allow_missing:
        strict = {
            "editor removed": "MISSING editor",
            "removed": "MISSING metric",
            "backend removed": "MISSING backend",
        }
        for row in report.rows:
            row.status = strict.get(row.status, row.status)
    return report


def _set_tiers(report: RegressionReport, current: dict[str, Any]) -> None:
    """Tier of every row: 0 the run's own rows and the headline metric, 1 summary metrics,
    2 per-AU, in/out-of-mask and other secondary metrics."""
    headline = (current.get("headline") or {}).get("metric")
    meta = current.get("metrics_meta") or {}
    for row in report.rows:
        if not row.backend or row.backend == "(run)" or row.metric.startswith("(") or row.editor == "(run)":
            row.tier = 0
            continue
        mid = f"{row.metric}@{row.backend}"
        secondary = (
            MetricId(row.metric, row.backend).per_au is not None
            or "_in_mask" in row.metric
            or "_out_mask" in row.metric
            or not (meta.get(mid) or {}).get("primary", True)
        )
        row.tier = 0 if mid == headline else (2 if secondary else 1)


def _sample_counts(report: RegressionReport, editor: str, b: dict[str, Any], c: dict[str, Any]) -> None:
    """An editor scored on another number of pairs, or with another failure count, fails the gate."""
    for what, before, now in (
        ("pairs scored (n)", (b.get("no_face") or {}).get("n"), (c.get("no_face") or {}).get("n")),
        ("failed samples", len(b.get("failed_samples") or []), len(c.get("failed_samples") or [])),
    ):
        if before is not None and now is not None and before != now:
            report.rows.append(
                Row(
                    editor,
                    what,
                    "(run)",
                    float(before),
                    float(now),
                    0.0,
                    "must not change",
                    "SAMPLES CHANGED",
                )
            )


def _missing_backends(report: RegressionReport, baseline: dict[str, Any], current: dict[str, Any]) -> None:
    """A backend kind that measured something in the baseline and is absent (or unusable) now."""
    for kind, b in (baseline.get("backends") or {}).items():
        label = (b or {}).get("label")
        now = (current.get("backends") or {}).get(kind) or {}
        if label and not now.get("label"):
            why = now.get("rejected") or now.get("reason") or "not in the current results"
            report.rows.append(
                Row("(run)", f"backend {kind}", label, None, None, None, "", "backend removed", str(why))
            )


def _usable(entry: dict[str, Any] | None) -> bool:
    return entry is not None and entry.get("status", "ok") == "ok"


def _editor_only_once(
    report: RegressionReport, editor: str, b: dict[str, Any] | None, c: dict[str, Any] | None
) -> None:
    if not _usable(b) and not _usable(c):
        if b is not None or c is not None:
            report.notes.append(f"editor {editor!r} is unavailable in both files")
        return
    status = "added" if _usable(c) else "removed"
    gone = b if status == "added" else c
    if gone is not None and gone.get("status", "ok") != "ok":
        report.notes.append(
            f"editor {editor!r} is {gone.get('status')} in one file: {gone.get('reason', 'no reason given')}"
        )
    reason = (
        "absent from the file" if gone is None else f"{gone.get('status')}: {gone.get('reason', 'no reason')}"
    )
    report.rows.append(Row(editor, "(all metrics)", "", None, None, None, "", f"editor {status}", reason))


def interval_side(entry: dict[str, Any], worse: bool) -> float | None:
    """Distance from ``entry``'s value to its 95% interval bound on the worse (or better) side; None without one."""
    value, ci = _value(entry), entry.get("ci95")
    if value is None or not isinstance(ci, list | tuple) or len(ci) != 2:
        return None
    lo, hi = (float(x) if isinstance(x, int | float) else math.nan for x in ci)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    upward = worse != bool(entry.get("higher_is_better"))  # the side where the value grows
    return max(0.0, hi - value if upward else value - lo)


def allowance(entry: dict[str, Any], tol: Tolerance, worse: bool = True) -> tuple[float, str]:
    """(allowed change, rule in words) on one side of a baseline ``entry``, by :data:`RULE`."""
    floor = tol.allowed(float(entry["value"]))
    side = interval_side(entry, worse)
    if side is None:
        return floor, f"fixed {tol.describe()} (no interval)"
    if side >= floor:
        return side, f"95% CI; floor {tol.describe()}"
    return floor, f"floor {tol.describe()}; 95% CI {side:.3g}"


def _judge(
    editor: str, mid: MetricId, b: dict[str, Any] | None, c: dict[str, Any] | None, tols: Tolerances
) -> Row:
    row = Row(editor, mid.key, mid.backend, _value(b), _value(c), None, "", "ok")
    if b is None or c is None:
        row.status = "added" if b is None else "removed"
        return row
    tol = tols.for_metric(mid)
    row.tolerance_rule = tol.describe()
    if tol.ignore:
        row.status = "not judged"
        return row
    if row.baseline is None:
        row.status = "ok" if row.current is None else "new value"
        return row
    row.tolerance, row.tolerance_rule = allowance(b, tol)
    if row.current is None:
        row.status = "no value"
        return row
    worse = row.current - row.baseline
    if bool(c["higher_is_better"]):
        worse = -worse
    slack = 1e-9 * max(1.0, abs(row.baseline))  # float noise is not a regression
    if worse > row.tolerance + slack:
        row.status = "REGRESSION"
    elif -worse > allowance(b, tol, worse=False)[0] + slack:
        row.status = "improved"
    return row


def _provenance(results: dict[str, Any]) -> str:
    return f"(git {results.get('git', 'unknown')}, created {results.get('created', 'unknown')})"


def _backend_notes(report: RegressionReport, baseline: dict[str, Any], current: dict[str, Any]) -> None:
    bb, cb = baseline.get("backends", {}), current.get("backends", {})
    for kind in sorted(bb.keys() & cb.keys()):
        b, c = bb[kind] or {}, cb[kind] or {}
        before, now = (location_free(side.get("provenance")) or {} for side in (b, c))
        if b.get("label") == c.get("label") and before != now:
            changed = sorted(k for k in before.keys() | now.keys() if before.get(k) != now.get(k))
            report.notes.append(
                f"backend {kind} ({b.get('label')}): same label, different provenance "
                f"({', '.join(changed)} changed: weights or version?)"
            )


def _comparison_notes(report: RegressionReport, baseline: dict[str, Any], current: dict[str, Any]) -> None:
    """A paired comparison within the runs (editor vs reference, primary metric) whose verdict changed."""
    meta = current.get("metrics_meta") or {}
    primary = {mid for mid, m in meta.items() if isinstance(m, dict) and m.get("primary")}

    def verdicts(results: dict[str, Any]) -> dict[tuple[str, str, str], str | None]:
        rows = (results.get("comparisons") or {}).get("rows") or []
        return {
            (r["editor"], r["reference"], r["metric"]): r.get("better")
            for r in rows
            if r.get("metric") in primary
        }

    def words(better: str | None) -> str:
        return "no significant difference" if better is None else f"{better} significantly better"

    before, now = verdicts(baseline), verdicts(current)
    for editor, reference, metric in sorted(before.keys() & now.keys()):
        b, c = before[editor, reference, metric], now[editor, reference, metric]
        if b != c:
            report.notes.append(
                f"paired comparison {editor} vs {reference} on {metric}: {words(b)} in the baseline, {words(c)} now"
            )


def regression_report(
    baseline_path: str | Path,
    current_path: str | Path,
    tolerances_path: str | Path | None = None,
    allow_missing: bool = False,
) -> RegressionReport:
    """Load both files and the tolerances, then :func:`compare_results`."""
    b_file, c_file = results_path(baseline_path), results_path(current_path)
    baseline, current = load_results(b_file), load_results(c_file)
    tolerances = Tolerances.load(tolerances_path)
    return compare_results(baseline, current, tolerances, (str(b_file), str(c_file)), allow_missing)


def update_baseline(current_path: str | Path, baseline_path: str | Path) -> Path:
    """Copy the (validated) current results over the baseline atomically."""
    source = results_path(current_path)
    load_results(source)
    target = Path(baseline_path)
    write_bytes_atomic(target, source.read_bytes())
    return target
