"""Which AUs each AU detector of a run measures: one reading note per detector that skips some.

An AU a detector cannot measure is NaN end to end (never 0): its per-AU columns are
absent and ``au_mae`` averages over the AUs it does measure. The note names them so
two tables with different judges are not read as covering the same AUs.
"""

from __future__ import annotations

from typing import Any


def au_coverage_notes(results: dict[str, Any]) -> list[str]:
    """``"<label> measures 15 of 17 AUs; not AU06, AU09 (...)"`` for each AU detector with gaps."""
    notes = []
    for kind, backend in (results.get("backends") or {}).items():
        prov = (backend or {}).get("provenance") or {}
        missing = prov.get("unmeasured_aus") or []
        measured = prov.get("measured_aus") or []
        if kind == "au_detector" and missing:
            notes.append(
                f"{backend.get('label') or prov.get('label')} measures {len(measured)} of "
                f"{len(measured) + len(missing)} AUs; not {', '.join(missing)} (unmeasured: NaN, left out of "
                "au_mae and the per-AU columns, never counted as 0)"
            )
    return notes
