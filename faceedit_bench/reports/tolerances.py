"""Regression tolerances: per-metric allowances read from YAML (``tolerances.yaml``).

Rules are tried in order; the first whose fnmatch ``match`` pattern matches the
metric id (``key@backend``) or the bare key applies. A rule gives ``abs`` and/or
``rel``; the allowed change is the larger of the two; ``ignore: true`` means the
metric is reported but never judged.
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from faceedit_bench.config import load_yaml
from faceedit_bench.reports.results import MetricId


@dataclass(frozen=True)
class Tolerance:
    """Allowed change: ``max(abs, rel * |baseline|)``."""

    abs: float = 0.0
    rel: float = 0.0
    ignore: bool = False  # reported, never judged (e.g. a standard deviation)

    def allowed(self, baseline: float) -> float:
        return max(self.abs, self.rel * abs(baseline))

    def describe(self) -> str:
        parts = ([f"abs {self.abs:g}"] if self.abs else []) + (
            [f"rel {self.rel * 100:g}%"] if self.rel else []
        )
        return "not judged" if self.ignore else (", ".join(parts) or "exact")


@dataclass(frozen=True)
class Tolerances:
    """Ordered ``(pattern, Tolerance)`` rules and a default; loaded from YAML."""

    rules: tuple[tuple[str, Tolerance], ...]
    default: Tolerance
    source: str = "built-in"

    @classmethod
    def load(cls, path: str | Path | None = None) -> Tolerances:
        """Read a tolerances YAML file (default: the one shipped with the package)."""
        if path is None:
            ref = resources.files("faceedit_bench.reports").joinpath("tolerances.yaml")
            with resources.as_file(ref) as default_path:
                return cls.load(default_path)
        data = load_yaml(Path(path))
        src = str(path)
        unknown = set(data) - {"rules", "default"}
        if unknown:
            raise ValueError(
                f"{src}: unknown top-level key(s) {', '.join(sorted(unknown))}; expected 'rules', 'default'"
            )
        rules = data.get("rules") or []
        if not isinstance(rules, list):
            raise ValueError(f"{src}: 'rules' must be a list of {{match, abs, rel}} mappings")
        parsed = []
        for i, rule in enumerate(rules):
            if not isinstance(rule, dict) or not isinstance(rule.get("match"), str):
                raise ValueError(f"{src}: rules[{i}] must be a mapping with a string 'match'")
            parsed.append((rule["match"], _tolerance(rule, f"{src}: rules[{i}]")))
        default = _tolerance(data.get("default") or {}, f"{src}: default")
        return cls(tuple(parsed), default, src)

    def for_metric(self, mid: MetricId) -> Tolerance:
        """The first rule matching ``key@backend`` or ``key``; else the default."""
        for pattern, tol in self.rules:
            if fnmatch.fnmatchcase(mid.id, pattern) or fnmatch.fnmatchcase(mid.key, pattern):
                return tol
        return self.default


def _tolerance(rule: dict[str, Any], where: str) -> Tolerance:
    extra = set(rule) - {"match", "abs", "rel", "ignore"}
    if extra:
        raise ValueError(
            f"{where}: unknown field(s) {', '.join(sorted(extra))}; expected match, abs, rel, ignore"
        )
    ignore = rule.get("ignore", False)
    if not isinstance(ignore, bool):
        raise ValueError(f"{where}: 'ignore' must be true or false, got {ignore!r}")
    values: dict[str, Any] = {"ignore": ignore}
    for name in ("abs", "rel"):
        v = rule.get(name, 0.0)
        if isinstance(v, bool) or not isinstance(v, int | float) or v < 0 or not math.isfinite(v):
            raise ValueError(f"{where}: '{name}' must be a non-negative number, got {v!r}")
        values[name] = float(v)
    return Tolerance(**values)
