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

from faceedit_bench.harness.inputs.editors import editor_group
from faceedit_bench.harness.inputs.names import base_name
from faceedit_bench.harness.inputs.seeds import checkpoint_of
from faceedit_bench.harness.stats.paired import LEVEL
from faceedit_bench.harness.stats.statistics import COMPETING, RULE, Features, RunStatistics
from faceedit_bench.metrics.functional.kid import KIDConfig, kid
from faceedit_bench.metrics.functional.set_bootstrap import weighted_fid

METHOD = (
    "paired percentile bootstrap (Efron & Tibshirani 1993) over the same pairs for every editor; "
    "whole identity clusters resampled (cluster bootstrap); several seeds of one editor resampled "
    "as a second, crossed factor (Owen 2007); FID/KID resamples reuse the features, re-centred on "
    "the reported value"
)


def apply_intervals(stats: RunStatistics) -> None:
    """Replace each metric's ``ci95`` by the cluster-bootstrap interval (FID/KID included)."""
    rates = {
        mid
        for entry in stats.entries.values()
        for mid, v in entry.get("metrics", {}).items()
        if v.get("key") in getattr(_metric_class(v.get("metric")), "rate_keys", ())
    }
    for editor, entry in stats.entries.items():
        for metric_id, value in entry.get("metrics", {}).items():
            interval = stats.editor_interval(editor, metric_id)
            if interval is None or not np.isfinite(interval.ci[0]):
                continue
            value["ci95"] = [interval.ci[0], interval.ci[1]]
            column = stats.columns.get(editor, {}).get(metric_id)
            if column is not None and metric_id in rates and _degenerate_rate(column):
                value["ci95"] = list(_wilson(column))
                value["ci_method"] = (
                    "Wilson score interval (a 0/1 rate at 0 or 1: a bootstrap would give zero width)"
                )
                continue
            value["ci_method"] = (
                "bootstrap, features reused, re-centred"
                if metric_id in _set_ids(stats, editor)
                else "bootstrap"
            ) + f" over {stats.cluster_note()}"


def _metric_class(name: str | None) -> type | None:
    from faceedit_bench import plugins

    return plugins.metrics.get(name) if name and name in plugins.metrics else None


def _degenerate_rate(column: np.ndarray) -> bool:
    finite = column[np.isfinite(column)]
    return finite.size > 0 and bool(np.all(finite == finite[0])) and finite[0] in (0.0, 1.0)


def _wilson(column: np.ndarray, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval of a 0/1 rate (Wilson 1927)."""
    finite = column[np.isfinite(column)]
    n, p = finite.size, float(finite.mean())
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def apply_miss_counts(stats: RunStatistics, meta: dict[str, Any]) -> None:
    """Give every judged metric ``n_missed``, ``miss_rate`` and ``value_judged`` (faces found only)."""
    for editor, entry in stats.entries.items():
        columns = stats.columns.get(editor, {})
        for metric_id, value in entry.get("metrics", {}).items():
            name = (meta.get(metric_id) or {}).get("metric") or value.get("metric")
            miss_key = getattr(_metric_class(name), "miss_key", None)
            if miss_key is None or metric_id not in columns or value.get("key") == miss_key:
                continue
            missed = columns.get(f"{miss_key}@{value['backend']}")
            if missed is None:
                continue
            found = np.isfinite(missed) & (missed == 0)
            col = columns[metric_id]
            n_missed = int(np.nansum(missed))
            value["n_missed"] = n_missed
            value["miss_rate"] = n_missed / max(1, int(np.isfinite(missed).sum()))
            judged = col[found & np.isfinite(col)]
            value["value_judged"] = float(judged.mean()) if judged.size else None
            value["miss_policy"] = "a missed face scores the worst value of the scale"


def clip_fid(entries: dict[str, Any]) -> None:
    """FID is a squared distance: a negative value is round-off, reported as 0 with the raw value kept."""
    for entry in entries.values():
        for value in entry.get("metrics", {}).values():
            if value.get("key") == "fid" and value["value"] < 0:
                value["value_raw"], value["value"] = value["value"], 0.0
                value["note"] = "clipped at 0 (a negative FID is numerical round-off)"
                if value.get("ci95"):
                    value["ci95"] = [max(0.0, value["ci95"][0]), max(0.0, value["ci95"][1])]


def sampling_floor(stats: RunStatistics) -> dict[str, Any]:
    """FID and KID of two disjoint halves of the real set: what "small" means at this sample size."""
    editor = next((e for e in stats.features if e in stats.entries), None)
    if editor is None:
        return {}
    real = stats.features[editor][1]
    half = len(real) // 2
    if half < 4:
        return {}
    a, b = real[:half], real[half : 2 * half]
    ones = np.ones((1, half))
    out: dict[str, Any] = {
        "n_per_side": half,
        "method": "first vs second half of the real features, pair order",
    }
    for metric_id, value in stats.entries[editor]["metrics"].items():
        key = value.get("key")
        if key == "fid":
            out[metric_id] = max(0.0, float(weighted_fid(a, b, ones)[0]))
        elif key == "kid":
            size = min(KIDConfig().subset_size, half // 2)
            out[metric_id] = kid(a, b, KIDConfig(subset_size=size))[0]
    return out


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
    apply_miss_counts(stats, data.get("metrics_meta", {}))
    clip_fid(entries)
    floor = sampling_floor(stats)
    if floor:
        data["sampling_floor"] = floor
    data["seeds"] = seeds_block(stats, checkpoints)
    data["comparisons"] = comparisons_block(stats, reference)
    judges = [(data.get("backends", {}).get(k) or {}).get("label") for k in ("au_detector", "au_detector_2")]
    mark_judge_agreement(data["comparisons"], judges)
    return stats


AGREEMENT_RULE = "an AU difference is robust only when both independent AU judges find it significant in the same direction"


def mark_judge_agreement(block: dict[str, Any], judges: list[str | None]) -> None:
    """Mark each AU-judged comparison row ``judges_agree`` (its twin under the other AU judge agrees)."""
    if None in judges or len(set(judges)) < 2:
        return
    rows = {(r["editor"], r["reference"], r["metric"]): r for r in block["rows"]}
    for (editor, ref, metric), row in rows.items():
        key, _, backend = metric.partition("@")
        if backend not in judges or not key.startswith("au_"):
            continue
        other = judges[1] if backend == judges[0] else judges[0]
        twin = rows.get((editor, ref, f"{key}@{other}"))
        if twin is not None:
            row["judges_agree"] = bool(
                row["significant"] and twin["significant"] and row["better"] == twin["better"]
            )
    block["judge_agreement"] = {"judges": judges, "rule": AGREEMENT_RULE}
