"""The ``attribution`` block of ``results.json`` as a table: ``tables/attribution.{csv,md,tex}``.

One row per (editor, judged image): the unchanged source first, then each editor's final
output, the output with the hue of its change removed and, for editors with a motion step,
that step alone and it plus only the luma or only the hue part of the texture change
(:mod:`faceedit_bench.harness.audit.attribution`). Columns: per AU judge the AU error and the
share of the editor's AU-error gain (unchanged - final) the image loses, then joint success
and PSNR to the true target; the CSV adds each paired difference to the final output.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from faceedit_bench.io import write_text_atomic
from faceedit_bench.reports.labels import decimals_for, format_cell, metric_label, protocol_heading
from faceedit_bench.reports.latex import frame_latex
from faceedit_bench.reports.markdown import to_markdown
from faceedit_bench.reports.results import MetricId

VARIANT_LABELS = {
    "unchanged": "unchanged source",
    "final": "final output",
    "no_hue": "final, hue of change removed",
    "motion": "motion step alone",
    "warp_luma": "motion + texture luma only",
    "warp_hue": "motion + texture hue only",
}
_RAW_COLUMNS = ["editor", "variant", "metric", "value", "ci_lo", "ci_hi", "n", "higher_is_better",
                "diff_vs_final", "diff_lo", "diff_hi", "p", "share_of_gain_lost", "share_lo", "share_hi"]  # fmt: skip


def variant_label(variant: str) -> str:
    return VARIANT_LABELS.get(variant, variant)


def attribution_rows(results: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """``(editor, variant, metrics, vs_final)`` per judged image; the unchanged source first (editor "–")."""
    block = results.get("attribution") or {}
    if not block.get("editors"):
        return []
    rows = [("–", "unchanged", block.get("unchanged", {}), {})]
    for editor, entry in block["editors"].items():
        if not entry.get("edits"):
            continue
        for variant, metrics in entry["variants"].items():
            rows.append((editor, variant, metrics, entry.get("vs_final", {}).get(variant, {})))
    return rows


def _metric_order(rows: list[tuple[str, str, dict[str, Any], dict[str, Any]]]) -> list[str]:
    """Metric ids in the order AU error, success, PSNR (then any other)."""
    found = list(dict.fromkeys(m for _, _, metrics, _ in rows for m in metrics))
    rank = {"au_mae": 0, "success": 1, "psnr": 2}
    return sorted(found, key=lambda m: rank.get(MetricId.parse(m).key, 3))


def attribution_frames(results: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(display frame, long-form raw frame); both empty without an attribution block."""
    rows = attribution_rows(results)
    if not rows:
        return pd.DataFrame(), pd.DataFrame(columns=_RAW_COLUMNS)
    metrics = _metric_order(rows)
    raw, shown = [], []
    decimals = {m: _decimals(rows, m) for m in metrics}
    for editor, variant, values, vs in rows:
        line: dict[str, str] = {"editor": editor, "image judged": variant_label(variant)}
        for m in metrics:
            mid, v, d = MetricId.parse(m), values.get(m, {}), vs.get(m, {})
            hib = bool(v.get("higher_is_better", mid.key != "au_mae"))
            (lo, hi), share = _ci(v), d.get("share_of_gain_lost", {})
            line[metric_label(mid, hib)] = format_cell(_num(v.get("value")), (hi - lo) / 2, decimals[m])
            if mid.key == "au_mae":  # per AU judge: a claim holds where both judges agree
                line[f"share of gain lost [{mid.backend}]"] = _interval(share, 0, percent=True)
            raw.append({
                "editor": editor, "variant": variant, "metric": m, "value": _num(v.get("value")),
                "ci_lo": lo, "ci_hi": hi, "n": v.get("n"), "higher_is_better": hib,
                "diff_vs_final": _num(d.get("value")), "diff_lo": _ci(d)[0], "diff_hi": _ci(d)[1], "p": d.get("p"),
                "share_of_gain_lost": _num(share.get("value")), "share_lo": _ci(share)[0], "share_hi": _ci(share)[1],
            })  # fmt: skip
        shown.append(line)
    return pd.DataFrame(shown), pd.DataFrame(raw, columns=_RAW_COLUMNS)


def _decimals(rows: list[tuple[str, str, dict[str, Any], dict[str, Any]]], metric: str) -> int:
    cells = [r[2].get(metric, {}) for r in rows]
    return decimals_for([_num(c.get("value")) for c in cells], [(_ci(c)[1] - _ci(c)[0]) / 2 for c in cells])


def _num(x: Any) -> float:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else math.nan


def _ci(entry: dict[str, Any]) -> tuple[float, float]:
    ci = entry.get("ci95") or (None, None)
    return _num(ci[0]), _num(ci[1])


def _interval(entry: dict[str, Any], decimals: int, signed: bool = False, percent: bool = False) -> str:
    """``+0.134 [+0.101, +0.168]`` or ``27% [21, 33]``; ``–`` when absent."""
    value, (lo, hi) = _num(entry.get("value")), _ci(entry)
    if not math.isfinite(value):
        return "–"
    scale, unit, sign = (100.0, "%", "") if percent else (1.0, "", "+" if signed else "")
    text = f"{value * scale:{sign}.{decimals}f}{unit}"
    if math.isfinite(lo) and math.isfinite(hi):
        text += f" [{lo * scale:{sign}.{decimals}f}, {hi * scale:{sign}.{decimals}f}]"
    return text


def attribution_notes(results: dict[str, Any]) -> list[str]:
    """Reading notes: what each image is, how hue is removed, how the intervals were drawn."""
    block = results.get("attribution") or {}
    notes = [
        "value ± half-width of the 95% interval; share: paired, [95% interval]; the paired differences to the "
        "final output are in attribution.csv",
        f"share of gain lost: {block.get('share_of_gain_lost', '')}",
        f"hue removal: {block.get('hue_removal', '')}",
        f"method: {block.get('method', '')}",
    ]
    for editor, entry in (block.get("editors") or {}).items():
        if not entry.get("edits"):
            notes.append(f"{editor}: not shown ({entry.get('note', 'no edits')})")
            continue
        if entry.get("failed_samples"):
            notes.append(f"{editor}: {entry['failed_samples']} samples could not be edited; scored worst")
        if entry.get("final_matches_main_pass") is False:
            notes.append(
                f"{editor}: its re-run did not reproduce the scored edits; these rows describe other edits"
            )
    return notes


def write_attribution_table(results: dict[str, Any], out: Path) -> list[Path]:
    """``attribution.csv`` (raw numbers), ``.md`` and ``.tex`` when the results have the block."""

    shown, raw = attribution_frames(results)
    if shown.empty:
        return []
    protocol = results["protocol"]
    title = f"{protocol_heading(protocol)}: where the AU-error gain comes from"
    paths = [out / "attribution.csv", out / "attribution.md", out / "attribution.tex"]
    write_text_atomic(paths[0], raw.to_csv(index=False))
    notes = "".join(f"- {n}\n" for n in attribution_notes(results))
    write_text_atomic(paths[1], f"**{title}**\n\n{to_markdown(shown, index=False)}\n\n{notes}")
    write_text_atomic(paths[2], frame_latex(shown, title, protocol["name"], "attribution", "editor"))
    return paths
