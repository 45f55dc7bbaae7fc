"""The ``seeds`` and ``comparisons`` blocks of ``results.json`` and the per-metric intervals.

Layout (schema ``faceedit-bench/results/v2``)::

    "seeds": {"two-stage": {"replicates": ["two-stage.s1", ...], "checkpoints": [...],
              "metrics": {"au_mae@aurig-ref": {"per_seed": [...], "mean": m, "sd": s,
                          "ci95": [lo, hi], "n_seeds": 3}}}}
    "comparisons": {"method": ..., "rule": ..., "level": 0.95, "n_resamples": 2000,
                    "resampled": "identity clusters (...)", "reference": "ganimation",
                    "rows": [{"editor", "reference", "metric", "difference", "ci95", "p",
                              "significant", "better", "higher_is_better", "n_pairs",
                              "n_seeds": [S_editor, S_reference]}],
                    "winners": {"au_mae@aurig-ref": {"best", "runner_up", "significant", "p_max"}}}

A difference is ``editor - reference`` on the metric's own scale; ``better`` names the
system the interval favours, or is null when the interval contains 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from faceedit_bench.harness.editors import editor_group
from faceedit_bench.harness.paired import LEVEL
from faceedit_bench.harness.seeds import base_name, checkpoint_of
from faceedit_bench.harness.statistics import COMPETING, RULE, Features, RunStatistics

METHOD = (
    "paired percentile bootstrap (Efron & Tibshirani 1993) over the same pairs for every editor; "
    "whole identity clusters resampled (cluster bootstrap); several seeds of one editor resampled "
    "as a second, crossed factor (Owen 2007); FID/KID resamples reuse the features, re-centred on "
    "the reported value"
)


def apply_intervals(stats: RunStatistics) -> None:
    """Replace each metric's ``ci95`` by the cluster-bootstrap interval (FID/KID included)."""
    for editor, entry in stats.entries.items():
        for metric_id, value in entry.get("metrics", {}).items():
            interval = stats.editor_interval(editor, metric_id)
            if interval is None or not np.isfinite(interval.ci[0]):
                continue
            value["ci95"] = [interval.ci[0], interval.ci[1]]
            value["ci_method"] = (
                "bootstrap, features reused, re-centred"
                if metric_id in _set_ids(stats, editor)
                else "bootstrap"
            ) + f" over {stats.cluster_note()}"


def _set_ids(stats: RunStatistics, editor: str) -> set[str]:
    return set(stats.entries[editor].get("metrics", {})) - set(stats.columns.get(editor, {}))


def _metric_ids(stats: RunStatistics, systems: list[str]) -> list[str]:
    first = stats.entries[stats.systems[systems[0]][0]]["metrics"] if systems else {}
    return [
        m for m in first if all(m in stats.entries[r]["metrics"] for s in systems for r in stats.systems[s])
    ]


def _hib(stats: RunStatistics, system: str, metric_id: str) -> bool:
    return bool(stats.entries[stats.systems[system][0]]["metrics"][metric_id]["higher_is_better"])


def seeds_block(stats: RunStatistics, checkpoints: dict[str, list[str]]) -> dict[str, Any]:
    """Per-seed values, their mean and spread, and the pairs x seeds interval of each seeded system."""
    block: dict[str, Any] = {}
    for system, reps in stats.systems.items():
        if len(reps) < 2:
            continue
        metrics: dict[str, Any] = {}
        for metric_id in _metric_ids(stats, [system]):
            per_seed = [float(stats.entries[r]["metrics"][metric_id]["value"]) for r in reps]
            interval = stats.system_interval(system, metric_id)
            metrics[metric_id] = {
                "per_seed": per_seed,
                "mean": float(np.mean(per_seed)),
                "sd": float(np.std(per_seed, ddof=1)),
                "min": float(np.min(per_seed)),
                "max": float(np.max(per_seed)),
                "ci95": None if interval is None else [interval.ci[0], interval.ci[1]],
                "n_seeds": len(reps),
                "higher_is_better": _hib(stats, system, metric_id),
            }
        block[system] = {"replicates": reps, "checkpoints": checkpoints.get(system, []), "metrics": metrics}
    return block


def _row(stats: RunStatistics, editor: str, reference: str, metric_id: str) -> dict[str, Any] | None:
    d = stats.difference(editor, reference, metric_id)
    if d is None or not np.isfinite(d.ci[0]):
        return None
    hib = _hib(stats, editor, metric_id)
    significant = d.excludes_zero()
    better = None
    if significant:
        better = editor if (d.value > 0) == hib else reference
    return {
        "editor": editor,
        "reference": reference,
        "metric": metric_id,
        "difference": d.value,
        "ci95": [d.ci[0], d.ci[1]],
        "p": d.p,
        "significant": significant,
        "better": better,
        "higher_is_better": hib,
        "n_pairs": stats.n_pairs,
        "n_seeds": [len(stats.systems[editor]), len(stats.systems[reference])],
    }


def default_reference(stats: RunStatistics) -> str | None:
    """The first baseline-group system of the run (the protocol's main baseline), else None."""
    for system, reps in stats.systems.items():
        if stats.entries[reps[0]].get("group") == "baseline":
            return system
    return None


def comparisons_block(stats: RunStatistics, reference: str | None = None) -> dict[str, Any]:
    """Every system against the reference and against identity; winners among competing systems."""
    if reference is not None and reference not in stats.systems:
        print(
            f"note: --reference {reference!r} did not run here (ran: {', '.join(stats.systems)}); using the default"
        )
        reference = None
    reference = reference or default_reference(stats)
    refs = [r for r in dict.fromkeys([reference, "identity"]) if r is not None and r in stats.systems]
    rows = []
    for ref in refs:
        for system in stats.systems:
            if system == ref:
                continue
            for metric_id in _metric_ids(stats, [system, ref]):
                row = _row(stats, system, ref, metric_id)
                if row is not None:
                    rows.append(row)
    return {
        "method": METHOD,
        "rule": RULE,
        "level": LEVEL,
        "n_resamples": len(stats.weights),
        "n_resamples_fid_kid": len(stats.set_weights),
        "resampled": stats.cluster_note(),
        "reference": reference,
        "rows": rows,
        "winners": winners(stats),
    }


def winners(stats: RunStatistics) -> dict[str, Any]:
    """Per metric: the best competing system by point value, and whether it beats every other one."""
    competing = [s for s, reps in stats.systems.items() if stats.entries[reps[0]].get("group") in COMPETING]
    out: dict[str, Any] = {}
    if len(competing) < 2:
        return out
    for metric_id in _metric_ids(stats, competing):
        points = {}
        for s in competing:
            got = stats.system_boot(s, metric_id)
            if got is not None and np.isfinite(got[0]):
                points[s] = got[0]
        if len(points) < 2:
            continue
        hib = _hib(stats, competing[0], metric_id)
        ranked = sorted(points, key=lambda s: -points[s] if hib else points[s])
        best = ranked[0]
        diffs = [stats.difference(best, other, metric_id) for other in ranked[1:]]
        p_values = [1.0 if d is None or d.p is None else d.p for d in diffs]
        significant = all(d is not None and d.excludes_zero() for d in diffs)
        out[metric_id] = {
            "best": best,
            "runner_up": ranked[1],
            "significant": significant,
            "p_max": float(max(p_values)),
        }
    return out


def add_statistics(
    data: dict[str, Any],
    samples: list[dict[str, Any]],
    checkpoints: dict[str, list[str]] | None = None,
    replicates: dict[str, list[str]] | None = None,
    reference: str | None = None,
    features: Features | None = None,
) -> RunStatistics:
    """Fill ``data`` (a results dict) with cluster intervals, ``seeds`` and ``comparisons``."""
    checkpoints, replicates = checkpoints or {}, replicates or {}
    entries = data["editors"]
    for name, entry in entries.items():
        base = base_name(name)
        if base != name and len(checkpoints.get(base, [])) > 1:
            entry["group"] = editor_group(base)
            entry["seed_of"] = base
            entry["checkpoint"] = checkpoint_of(name, checkpoints)
    stats = RunStatistics(entries, samples, replicates, features)
    apply_intervals(stats)
    data["seeds"] = seeds_block(stats, checkpoints)
    data["comparisons"] = comparisons_block(stats, reference)
    return stats
