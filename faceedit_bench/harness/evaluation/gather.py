"""The end of a pass: per-process, per-batch state merged into each editor's values and samples.

Rank 0 of a ``torchrun`` pass (or the only process) calls :func:`merge_states` on every
rank's :class:`~.partial.RunState`; per-sample metrics get a mean and a bootstrap
interval, set metrics (FID, KID) are computed from their merged exact states.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from faceedit_bench.api.metric import Metric
from faceedit_bench.api.step import BackendSet
from faceedit_bench.harness.evaluation.partial import RunState
from faceedit_bench.harness.stats.bootstrap import bootstrap_mean_ci


@dataclass
class EvaluationOutput:
    """Merged accumulations (rank 0) ready for the results writer."""

    metrics: dict[str, dict[str, Any]]  # editor -> key@backend -> value dict
    samples: list[dict[str, Any]]
    no_face: dict[str, dict[str, int]]
    failed: dict[str, str]
    metrics_meta: dict[str, dict[str, Any]]
    qualitative: dict[str, np.ndarray]
    sample_failures: dict[str, list[dict[str, str]]]  # editor -> [{sample_id, reason}]
    # editor -> (edited, real) distribution features in pair order (FID/KID intervals)
    set_features: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    # seconds of this process's pass: wall, real side, edits, each judge (see run._timings)
    timings: dict[str, float] = field(default_factory=dict)


def make_metric(cls: type[Metric], backends: BackendSet) -> Metric:
    """A fresh ``cls`` labelled with the backend it reads (``exact`` for none)."""
    label = "exact" if cls.backend_kind is None else backends.get(cls.backend_kind).label  # type: ignore[union-attr]
    return cls(backend_label=label)


def merge_states(
    states: list[RunState],
    editor_names: list[str],
    metric_classes: dict[str, type[Metric]],
    backends: BackendSet,
) -> EvaluationOutput:
    results: dict[str, dict[str, Any]] = {}
    samples: list[dict[str, Any]] = []
    no_face: dict[str, dict[str, int]] = {}
    failed: dict[str, str] = {}
    meta: dict[str, dict[str, Any]] = {}
    qualitative = states[0].qualitative

    for metric_name, cls in metric_classes.items():
        probe = make_metric(cls, backends)
        primary = set(probe.primary_keys())
        for key, hib in probe.keys().items():
            meta[f"{key}@{probe.backend_label}"] = {
                "metric": metric_name,
                "key": key,
                "backend": probe.backend_label,
                "higher_is_better": hib,
                "primary": key in primary,
                "needs_ground_truth": cls.needs_ground_truth,
                "per_sample": cls.per_sample,
                "description": cls.description,
            }

    sample_failures: dict[str, list[dict[str, str]]] = {}
    set_features: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for ed in editor_names:
        parts = [s.editors[ed] for s in states]
        fail = next((p.failed for p in parts if p.failed), None)
        if fail:
            failed[ed] = fail
            continue
        lost = sorted((f for p in parts for f in p.failures), key=lambda f: f.index)
        sample_failures[ed] = [{"sample_id": f.sample_id, "reason": f.reason} for f in lost]
        order = np.concatenate([np.asarray(p.order, dtype=np.int64) for p in parts])
        perm = np.argsort(order, kind="stable")
        sample_ids = [sid for p in parts for sid in p.sample_ids]
        identity_ids = [iid for p in parts for iid in p.identity_ids]
        keys = sorted({k for p in parts for k in p.values})
        columns = {
            k: np.concatenate(
                [np.asarray(p.values.get(k, [np.nan] * len(p.order)), dtype=np.float64) for p in parts]
            )[perm]
            for k in keys
        }
        ed_metrics: dict[str, Any] = {}
        for k, col in columns.items():
            finite = np.isfinite(col)
            if not finite.any():
                continue
            m = meta.get(
                k,
                {
                    "metric": k.split("@")[0],
                    "key": k.split("@")[0],
                    "backend": k.split("@")[1],
                    "higher_is_better": False,
                },
            )
            lo, hi = bootstrap_mean_ci(col, seed=0)
            ed_metrics[k] = {
                "value": float(col[finite].mean()),
                "ci95": [lo, hi],
                "n": int(finite.sum()),
                "backend": m["backend"],
                "higher_is_better": m["higher_is_better"],
                "skipped": int((~finite).sum()),
                "metric": m["metric"],
                "key": m["key"],
            }
        for metric_name, cls in metric_classes.items():
            if cls.per_sample:
                continue
            metric = make_metric(cls, backends)
            metric.merge([p.dist_states[metric_name] for p in parts if metric_name in p.dist_states])
            if hasattr(metric, "align") and metric.align(perm):  # pair order: KID subsets, intervals
                set_features.setdefault(ed, metric.features())
            for key, value in metric.compute().items():
                if value is None or not math.isfinite(value):
                    continue
                full = f"{key}@{metric.backend_label}"
                ed_metrics[full] = {
                    "value": float(value),
                    "ci95": None,
                    "n": len(order),
                    "backend": metric.backend_label,
                    "higher_is_better": meta[full]["higher_is_better"],
                    "skipped": 0,
                    "metric": metric_name,
                    "key": key,
                }
        results[ed] = ed_metrics
        no_face[ed] = {
            "source": sum(p.no_face["source"] for p in parts),
            "edited": sum(p.no_face["edited"] for p in parts),
            "target": sum(p.no_face["target"] for p in parts),
            "n": len(order),
        }
        rows: list[tuple[int, dict[str, Any]]] = []
        for row, i in enumerate(perm):
            values = {k: (float(col[row]) if np.isfinite(col[row]) else None) for k, col in columns.items()}
            entry = {
                "editor": ed,
                "sample_id": sample_ids[i],
                "identity_id": identity_ids[i],
                "values": values,
            }
            rows.append((int(order[i]), entry))
        why = {f.index: f.reason for f in lost}
        for index, entry in rows:
            if index in why:
                entry["failed"] = why[index]
        samples.extend(entry for _, entry in sorted(rows, key=lambda r: r[0]))
    return EvaluationOutput(
        results, samples, no_face, failed, meta, qualitative, sample_failures, set_features
    )
