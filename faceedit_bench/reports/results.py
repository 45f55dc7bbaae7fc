"""Load and validate a run's ``results.json`` (schema ``faceedit-bench/results/v2``; v1 still loads).

Tables, figures and regression reports are built only from result files, so every
reader goes through :func:`load_results`, whose errors name the file and the field
that is wrong. The schema itself is the harness' (:mod:`faceedit_bench.harness.outputs.results`,
the writer); this module adds the checks its readers rely on (editor groups, numeric
values, interval shape). Metric ids look like ``key@backend``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faceedit_bench.harness.outputs.results import READABLE_SCHEMAS, SCHEMA, ResultsError
from faceedit_bench.harness.outputs.results import validate_results as validate_schema

__all__ = ["SCHEMA", "MetricId", "ResultsError", "load_results", "validate_results"]

GROUPS = ("reference", "two-stage", "baseline", "external")  # external: user plugins, manifests
_PER_AU_RE = re.compile(r"^(?P<base>.+)_(?P<au>AU\d\d)$")


@dataclass(frozen=True)
class MetricId:
    """A metric column: the reported ``key`` and the ``backend`` that produced it."""

    key: str
    backend: str

    @property
    def id(self) -> str:
        return f"{self.key}@{self.backend}"

    @property
    def per_au(self) -> tuple[str, str] | None:
        """``(base key, AU name)`` for per-AU keys like ``au_mae_AU12``, else None."""
        m = _PER_AU_RE.match(self.key)
        return (m["base"], m["au"]) if m else None

    @classmethod
    def parse(cls, metric_id: str) -> MetricId:
        key, sep, backend = metric_id.rpartition("@")
        if not sep or not key or not backend:
            raise ValueError(f"metric id {metric_id!r} does not look like 'key@backend'")
        return cls(key, backend)


def results_path(path: str | Path) -> Path:
    """``path`` itself, or ``path/results.json`` when ``path`` is a run directory."""
    p = Path(path)
    return p / "results.json" if p.is_dir() else p


def load_results(path: str | Path) -> dict[str, Any]:
    """Read and validate a results file (or a run directory holding ``results.json``)."""
    file = results_path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsError(
            f"{file}: no such results file (write one with `faceedit-bench compare --out DIR`)"
        ) from None
    except OSError as err:
        raise ResultsError(f"{file}: cannot read ({err.strerror})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ResultsError(f"{file}: not valid JSON ({err.msg} at line {err.lineno})") from None
    validate_results(data, str(file))
    return data


def validate_results(data: Any, source: str = "results") -> None:
    """Raise :class:`ResultsError` naming ``source`` and the first schema violation."""

    def fail(msg: str) -> None:
        raise ResultsError(f"{source}: {msg}")

    if not isinstance(data, dict):
        fail("expected a JSON object at the top level")
    if data.get("schema") not in READABLE_SCHEMAS:
        fail(f"schema is {data.get('schema')!r}, expected one of {', '.join(READABLE_SCHEMAS)}")
    validate_schema(data, source)
    protocol = data.get("protocol")
    if not isinstance(protocol, dict) or "name" not in protocol or "version" not in protocol:
        fail("'protocol' must be an object with 'name' and 'version'")
    editors = data.get("editors")
    if not isinstance(editors, dict):
        fail("'editors' must be an object mapping editor names to results")
    meta = data.get("metrics_meta", {})
    if not isinstance(meta, dict):
        fail("'metrics_meta' must be an object")
    for name, entry in editors.items():
        where = f"editors[{name!r}]"
        if not isinstance(entry, dict):
            fail(f"{where} must be an object")
        if entry.get("group") not in GROUPS:
            fail(f"{where}.group is {entry.get('group')!r}; expected one of {', '.join(GROUPS)}")
        metrics = entry.get("metrics", {})
        if not isinstance(metrics, dict):
            fail(f"{where}.metrics must be an object")
        for metric_id, value in metrics.items():
            _validate_metric(metric_id, value, f"{where}.metrics[{metric_id!r}]", fail)


def _validate_metric(metric_id: str, value: Any, where: str, fail: Any) -> None:
    try:
        mid = MetricId.parse(metric_id)
    except ValueError as err:
        fail(f"{where}: {err}")
    if not isinstance(value, dict):
        fail(f"{where} must be an object with 'value', 'backend', 'higher_is_better'")
    if value.get("backend", mid.backend) != mid.backend:
        fail(
            f"{where}: backend field {value.get('backend')!r} disagrees with the id's backend {mid.backend!r}"
        )
    if not isinstance(value.get("higher_is_better"), bool):
        fail(f"{where}.higher_is_better must be true or false")
    v = value.get("value")
    if v is not None and not isinstance(v, int | float):
        fail(f"{where}.value must be a number or null, got {v!r}")
    ci = value.get("ci95")
    if ci is not None and (not isinstance(ci, list | tuple) or len(ci) != 2):
        fail(f"{where}.ci95 must be null or [low, high], got {ci!r}")


@dataclass(frozen=True)
class Cell:
    """One editor's number for one metric column (NaN when absent)."""

    value: float
    ci_lo: float
    ci_hi: float
    n: int
    higher_is_better: bool

    @property
    def half_ci(self) -> float:
        return (self.ci_hi - self.ci_lo) / 2.0


def metric_cell(entry: dict[str, Any]) -> Cell:
    """A :class:`Cell` from one ``editors[...].metrics[...]`` entry."""
    value = entry.get("value")
    ci = entry.get("ci95") or (None, None)
    return Cell(
        value=_num(value),
        ci_lo=_num(ci[0]),
        ci_hi=_num(ci[1]),
        n=int(entry.get("n") or 0),
        higher_is_better=bool(entry["higher_is_better"]),
    )


def _num(x: Any) -> float:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else math.nan


def editor_names(
    results: dict[str, Any], groups: tuple[str, ...] = GROUPS, ok_only: bool = True
) -> list[str]:
    """Editors in table order (the file's order) of ``groups``; by default only those that ran."""
    return [
        name
        for name, e in results["editors"].items()
        if e["group"] in groups and (not ok_only or e.get("status", "ok") == "ok")
    ]


def unavailable_editors(results: dict[str, Any], groups: tuple[str, ...] = GROUPS) -> dict[str, str]:
    """Editors of ``groups`` that did not run -> ``"status: first sentence of the reason"``."""
    out = {}
    for name, e in results["editors"].items():
        if e["group"] in groups and e.get("status", "ok") != "ok":
            reason = str(e.get("reason") or "no reason given").split(". ")[0].split(" (")[0].rstrip(".")
            out[name] = f"{e.get('status')}: {reason if len(reason) <= 100 else reason[:99] + '…'}"
    return out


def metric_ids(results: dict[str, Any], editors: list[str] | None = None) -> list[MetricId]:
    """Every metric column reported by ``editors`` (default all), meta order first."""
    names = editors if editors is not None else list(results["editors"])
    seen: dict[str, None] = {}
    for mid in results.get("metrics_meta", {}):
        seen.setdefault(mid, None)
    present = {m for n in names for m in results["editors"][n].get("metrics", {})}
    ordered = [m for m in seen if m in present]
    ordered += sorted(present - set(ordered))
    return [MetricId.parse(m) for m in ordered]


def higher_is_better(results: dict[str, Any], mid: MetricId) -> bool:
    """Direction of a metric column, from ``metrics_meta`` or any editor's entry."""
    meta = results.get("metrics_meta", {}).get(mid.id)
    if meta is not None and "higher_is_better" in meta:
        return bool(meta["higher_is_better"])
    for e in results["editors"].values():
        entry = e.get("metrics", {}).get(mid.id)
        if entry is not None:
            return bool(entry["higher_is_better"])
    raise KeyError(mid.id)


def is_primary(results: dict[str, Any], mid: MetricId) -> bool:
    """Whether a column belongs in the summary table (meta ``primary``; per-AU keys never)."""
    if mid.per_au is not None:
        return False
    meta = results.get("metrics_meta", {}).get(mid.id)
    return bool(meta.get("primary", True)) if meta is not None else True
