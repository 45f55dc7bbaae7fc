"""Whether two runs can be compared at all, and which system behind a name changed between them.

Used by the regression gate (:mod:`.regression`) and by ``merge``: numbers on other pairs,
from another protocol or from other judges are refused, never put side by side.
"""

from __future__ import annotations

import json
import os
from typing import Any

from faceedit_bench.harness.stats.pair_set import PAIR_FIELDS
from faceedit_bench.reports.results import MetricId


class IncomparableResults(ValueError):
    """Baseline and current results cannot be compared (protocol or backend differ)."""


def check_comparable(baseline: dict[str, Any], current: dict[str, Any], names: tuple[str, str]) -> None:
    """Raise :class:`IncomparableResults` for different protocols or per-key backends."""
    pb, pc = baseline["protocol"], current["protocol"]
    if (pb["name"], pb["version"]) != (pc["name"], pc["version"]):
        raise IncomparableResults(
            f"different protocols: {names[0]} is {pb['name']} v{pb['version']}, "
            f"{names[1]} is {pc['name']} v{pc['version']}; numbers from different protocols are not comparable"
        )
    for field_name in ("n_pairs", "n_pairs_evaluated", *PAIR_FIELDS, "pair_set"):
        if field_name in pb and field_name in pc and pb[field_name] != pc[field_name]:
            why = (
                "a run with --n-pairs"
                if field_name.startswith("n_pairs")
                else "the same protocol name on other pairs"
            )
            raise IncomparableResults(
                f"other pairs: protocol field {field_name!r} differs: {pb[field_name]!r} in {names[0]}, "
                f"{pc[field_name]!r} in {names[1]} ({why}); numbers on other pairs are not comparable"
            )
    for editor in baseline["editors"].keys() & current["editors"].keys():
        b = backends_by_key(baseline["editors"][editor])
        c = backends_by_key(current["editors"][editor])
        for key in sorted(b.keys() & c.keys()):
            if not b[key] & c[key]:
                raise IncomparableResults(
                    f"editor {editor!r}: metric {key!r} comes from backend(s) {', '.join(sorted(b[key]))} in "
                    f"{names[0]} but {', '.join(sorted(c[key]))} in {names[1]}; values from different backends are "
                    "not comparable (re-run with the same backend, or --update-baseline --force to accept the change)"
                )


def backends_by_key(entry: dict[str, Any]) -> dict[str, set[str]]:
    """metric key -> the backends that measured it, for one editor's results entry."""
    out: dict[str, set[str]] = {}
    for metric_id in entry.get("metrics", {}):
        mid = MetricId.parse(metric_id)
        out.setdefault(mid.key, set()).add(mid.backend)
    return out


def changed_systems(baseline: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """``system behind NAME changed: ...`` for each editor in both files whose ``describe`` differs
    (file locations reduced to file names: a clone elsewhere is the same system)."""
    out = []
    for editor in baseline["editors"].keys() & current["editors"].keys():
        before = location_free(baseline["editors"][editor].get("describe"))
        now = location_free(current["editors"][editor].get("describe"))
        if before is None or now is None or before == now:
            continue
        if isinstance(before, dict) and isinstance(now, dict):
            keys = sorted(k for k in before.keys() | now.keys() if before.get(k) != now.get(k))
            what = "; ".join(f"{k} {_brief(before.get(k))} -> {_brief(now.get(k))}" for k in keys[:4])
            what += f"; and {len(keys) - 4} more" if len(keys) > 4 else ""
        else:
            what = f"{_brief(before)} -> {_brief(now)}"
        out.append(f"system behind {editor} changed: {what} (its numbers may differ for that reason)")
    return sorted(out)


def _brief(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 60 else text[:59] + "…"


def location_free(provenance: Any) -> Any:
    """Provenance with file locations reduced to file names: a clone elsewhere is the same backend."""
    if isinstance(provenance, dict):
        return {k: location_free(v) for k, v in provenance.items()}
    if isinstance(provenance, str) and os.path.isabs(provenance):
        return os.path.basename(provenance)
    return provenance
