"""Tables of the ``comparisons`` and ``seeds`` blocks of ``results.json``, and the pooled view.

The pooled view shows an editor evaluated from several checkpoints as one row (mean
over seeds, pairs x seeds interval) so summary tables compare systems, not single
seeds; the seeds table lists every seed beside the mean and the across-seed spread.
Comparison rows follow the harness' rule (:mod:`faceedit_bench.harness.stats.comparisons`).
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from faceedit_bench.io import write_text_atomic
from faceedit_bench.reports.labels import decimals_for, metric_label, protocol_heading
from faceedit_bench.reports.latex import frame_latex
from faceedit_bench.reports.markdown import to_markdown
from faceedit_bench.reports.results import MetricId


def pooled_view(results: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``results`` where each seeded editor's replicates become one entry."""
    seeds = results.get("seeds") or {}
    if not seeds:
        return results
    out = copy.copy(results)
    editors: dict[str, Any] = {}
    replicate_of = {r: base for base, s in seeds.items() for r in s["replicates"]}
    for name, entry in results["editors"].items():
        base = replicate_of.get(name)
        if base is None:
            editors[name] = entry
            continue
        if base in editors:
            continue
        block = seeds[base]
        metrics = {
            mid: {
                "value": m["mean"],
                "ci95": m.get("ci95"),
                "n": entry["metrics"].get(mid, {}).get("n", 0),
                "backend": MetricId.parse(mid).backend,
                "higher_is_better": m["higher_is_better"],
                "n_seeds": m["n_seeds"],
                "sd_seeds": m["sd"],
            }
            for mid, m in block["metrics"].items()
        }
        editors[base] = {
            "group": entry["group"],
            "status": "ok",
            "seeds": len(block["replicates"]),
            "metrics": metrics,
        }
    out["editors"] = editors
    return out


def miss_notes(results: dict[str, Any], editors: list[str]) -> list[str]:
    """One line per editor whose judge missed faces: the rate, the policy, the value on found faces."""
    notes = []
    for editor in editors:
        entry = results["editors"].get(editor, {})
        misses = {
            mid: m for mid, m in entry.get("metrics", {}).items()
            if m.get("n_missed") and MetricId.parse(mid).per_au is None
        }  # fmt: skip
        by_rate = {}
        for mid, m in misses.items():
            by_rate.setdefault((MetricId.parse(mid).backend, m["n_missed"], m.get("n", 0)), []).append(
                (mid, m)
            )
        for (backend, missed, n), items in by_rate.items():
            judged = ", ".join(
                f"{MetricId.parse(mid).key} {m['value_judged']:.3g}"
                for mid, m in items
                if m.get("value_judged") is not None
            )
            notes.append(
                f"{editor}: the {backend} judge found no face in {missed}/{n} edits ({missed / max(n, 1):.0%}); "
                f"each scored as the worst value of the scale (on found faces only: {judged})"
            )
    return notes


def supervision_notes(results: dict[str, Any], editors: list[str]) -> list[str]:
    """Which training signals each shown editor had, and a warning when competing regimes are mixed."""
    block = results.get("supervision") or {}
    regimes = {e: r for e, r in (block.get("regimes") or {}).items() if e in editors}
    if not regimes:
        return []
    by_regime: dict[str, list[str]] = {}
    for editor, regime in regimes.items():
        by_regime.setdefault(regime, []).append(editor)
    rank = {r: k for k, r in enumerate(("paired", "unpaired", "unknown", "none", "ground truth"))}
    parts = [
        f"{r} ({', '.join(by_regime[r])})" for r in sorted(by_regime, key=lambda r: rank.get(r, len(rank)))
    ]
    notes = [
        "supervision (paired = same-person image pairs seen in training, unpaired = none): "
        + "; ".join(parts)
    ]
    if block.get("mixed"):
        notes.append(
            f"MIXED supervision ({block.get('mixed_allowed', '')}), compared with --allow-mixed-supervision: "
            "a difference between editors of different regimes measures their training signals as much as "
            "the editors"
        )
    return notes


def failure_notes(results: dict[str, Any], editors: list[str]) -> list[str]:
    """One line per editor with counted failures: how many of its pairs, and that each is scored worst."""
    notes = []
    for editor in editors:
        entry = results["editors"].get(editor, {})
        lost = entry.get("failed_samples") or []
        if lost:
            n = (entry.get("no_face") or {}).get("n", "?")
            first = lost[0]
            notes.append(
                f"{editor}: {len(lost)} of {n} samples FAILED (could not be edited, read or passed the output "
                f"guard; first: {first['sample_id']}: {first['reason']}); each is scored worst in every metric"
            )
    return notes


def floor_notes(results: dict[str, Any], metric_ids: list[str]) -> list[str]:
    """What "small" means for FID/KID at this sample size, and a note on negative estimates."""
    floor = results.get("sampling_floor") or {}
    notes = []
    shown = [m for m in metric_ids if m in floor]
    reference = (results.get("protocol", {}).get("reference_set") or {}).get("chosen")
    if reference and any(m.split("@")[0] in ("fid", "kid") for m in metric_ids):
        notes.append(f"FID/KID reference set: {reference}")
    if shown:
        values = ", ".join(f"{MetricId.parse(m).key.upper()} {floor[m]:.3g}" for m in shown)
        notes.append(
            f"sampling floor: two disjoint halves of the real images ({floor['n_per_side']} per side) "
            f"score {values}; values near these do not separate editors"
        )
    negative = sorted(
        {
            MetricId.parse(m).key.upper()
            for e in results["editors"].values()
            for m, v in e.get("metrics", {}).items()
            if m in metric_ids and MetricId.parse(m).key == "kid" and (v.get("value") or 0) < 0
        }
    )
    if negative:
        notes.append("a negative KID is an unbiased estimate of a distance near 0 (below the sampling floor)")
    return notes


def significant_winner(results: dict[str, Any], metric_id: str) -> str | None:
    """The editor that ``comparisons.winners`` says is significantly best on ``metric_id``."""
    win = ((results.get("comparisons") or {}).get("winners") or {}).get(metric_id)
    return win["best"] if win and win.get("significant") else None


def _fmt(x: float, dec: int) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{x:.{dec}f}"


def comparisons_frame(
    results: dict[str, Any], digits: int | None = None, metrics: list[str] | None = None
) -> pd.DataFrame:
    """One row per (editor, reference, primary metric): difference, its interval, p and the verdict;
    grouped by reference (the "vs" blocks), the run's reference first."""
    block = results.get("comparisons") or {}
    meta = results.get("metrics_meta", {})
    rows = []
    for r in block.get("rows", []):
        mid = MetricId.parse(r["metric"])
        if metrics is not None:
            if mid.id not in metrics and mid.key not in metrics:
                continue
        elif mid.per_au is not None or not meta.get(r["metric"], {}).get("primary", True):
            continue  # the table shows the summary's metrics; results.json has every one
        dec = (
            digits
            if digits is not None
            else decimals_for([r["difference"]], [(r["ci95"][1] - r["ci95"][0]) / 2])
        )
        verdict = "n.s." if not r["significant"] else ("better" if r["better"] == r["editor"] else "worse")
        if r["significant"] and r.get("judges_agree") is not None:
            verdict += " (both judges)" if r["judges_agree"] else " (one judge only)"
        rows.append({
            "editor": r["editor"], "vs": r["reference"],
            "metric": f"{metric_label(mid, r['higher_is_better'], backend=False)} [{mid.backend}]",
            "difference": _fmt(r["difference"], dec),
            "95% CI": f"[{_fmt(r['ci95'][0], dec)}, {_fmt(r['ci95'][1], dec)}]",
            "p": "–" if r["p"] is None else (f"{r['p']:.3f}" if r["p"] >= 0.001 else "<0.001"),
            "verdict": verdict, "seeds": "×".join(str(s) for s in r["n_seeds"]),
        })  # fmt: skip
    frame = pd.DataFrame(
        rows, columns=["editor", "vs", "metric", "difference", "95% CI", "p", "verdict", "seeds"]
    )
    order = {ref: i for i, ref in enumerate(dict.fromkeys(frame["vs"]))}
    return frame.sort_values("vs", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


def seeds_frame(results: dict[str, Any]) -> pd.DataFrame:
    """One row per (seeded editor, metric): every seed's value, mean ± sd, pairs x seeds interval."""
    rows = []
    for base, block in (results.get("seeds") or {}).items():
        for mid_text, m in block["metrics"].items():
            mid = MetricId.parse(mid_text)
            if mid.per_au is not None:
                continue
            per = np.asarray(m["per_seed"], float)
            dec = decimals_for(per, [m["sd"]])
            ci = m.get("ci95") or [math.nan, math.nan]
            rows.append({
                "editor": base,
                "metric": f"{metric_label(mid, m['higher_is_better'], backend=False)} [{mid.backend}]",
                "per seed": ", ".join(_fmt(v, dec) for v in per),
                "mean ± sd": f"{_fmt(m['mean'], dec)} ± {_fmt(m['sd'], dec)}",
                "95% CI (pairs × seeds)": f"[{_fmt(ci[0], dec)}, {_fmt(ci[1], dec)}]",
                "seeds": m["n_seeds"],
            })  # fmt: skip
    return pd.DataFrame(
        rows, columns=["editor", "metric", "per seed", "mean ± sd", "95% CI (pairs × seeds)", "seeds"]
    )


def write_stats_tables(
    results: dict[str, Any], out: Path, digits: int | None = None, metrics: list[str] | None = None
) -> list[Path]:
    """``comparisons`` and ``seeds`` as CSV, Markdown and LaTeX (when the results have them)."""
    from faceedit_bench.reports.captions import table_caption

    name = protocol_heading(results["protocol"])
    block = results.get("comparisons") or {}
    written: list[Path] = []
    for stem, group, df, title, notes in (
        ("comparisons", "vs", comparisons_frame(results, digits, metrics), f"{name}: paired comparisons",
         [block.get("rule", ""), f"method: {block.get('method', '')}; resampled: {block.get('resampled', '')}",
          *supervision_notes(results, list(results.get("editors", {}))),
          "difference = editor − vs on the metric's scale; verdict from the editor's side; "
          "seeds = seeds of editor × seeds of vs"]),
        ("seeds", "editor", seeds_frame(results), f"{name}: training seeds",
         ["sd = standard deviation across seeds; the interval resamples pairs (identity clusters) and seeds"]),
    ):  # fmt: skip
        if df.empty:
            continue
        paths = [out / f"{stem}.csv", out / f"{stem}.md", out / f"{stem}.tex"]
        write_text_atomic(paths[0], df.to_csv(index=False))
        lines = "".join(f"- {n}\n" for n in notes if n)
        write_text_atomic(paths[1], f"**{title}**\n\n{to_markdown(df, index=False)}\n\n{lines}")

        def caption(part: int, parts: int, stem: str = stem) -> str:
            return table_caption(stem, results, part=(part, parts))

        write_text_atomic(paths[2], frame_latex(df, caption, results["protocol"]["name"], stem, group))
        written += paths
    return written
