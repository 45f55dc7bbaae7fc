"""Intervals, seed summaries and paired comparisons of one run (the ``seeds`` and ``comparisons`` blocks).

Built from what the harness already holds: per-sample values (and, for FID/KID, the
edited/real features in pair order). One set of resampling weights over identity
clusters is drawn per run and shared by every editor, so each difference is paired
(:mod:`faceedit_bench.harness.stats.paired`); an editor evaluated from several checkpoints
(:mod:`faceedit_bench.harness.inputs.seeds`) is one *system* whose seeds are resampled too.
FID/KID resamples reuse the features (:mod:`faceedit_bench.metrics.functional.set_bootstrap`);
their bootstrap distributions are re-centred on the reported value (median shift),
which removes the extra bias that duplicated pairs add to FID.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from faceedit_bench.harness.stats.paired import (
    LEVEL,
    MIN_CLUSTERS,
    N_RESAMPLES,
    Interval,
    cluster_codes,
    combine_seeds,
    n_identities,
    pair_weights,
    paired_difference,
    per_seed_means,
    percentile_interval,
    seed_weights,
)
from faceedit_bench.metrics.functional.kid import KIDConfig
from faceedit_bench.metrics.functional.set_bootstrap import weighted_fid, weighted_kid

COMPETING = ("two-stage", "baseline", "external")
SET_RESAMPLES = 200  # FID/KID: every resample is an SVD or kernel pass; 50 above 1,000 pairs
RULE = (
    "a difference is significant when the 95% interval of the paired difference excludes 0 "
    "(percentile bootstrap resampling identity clusters, and seeds where an editor has several; "
    "two-sided p < 0.05)"
)
Features = dict[str, tuple[np.ndarray, np.ndarray]]  # editor -> (edited, real) in pair order


@dataclass
class Boot:
    """One system's metric: per-seed point values ``(S,)`` and resampled values ``(B, S)``."""

    point: np.ndarray
    boot: np.ndarray
    centred: bool = False


def set_statistic(key: str, edited: np.ndarray, real: np.ndarray, weights: np.ndarray) -> np.ndarray | None:
    """Resampled FID or KID of one editor, or None for a set-level key without a bootstrap."""
    if key == "fid":
        return weighted_fid(edited, real, weights)
    if key == "kid":
        return weighted_kid(edited, real, weights, KIDConfig())
    return None


def _columns(
    samples: list[dict[str, Any]],
) -> tuple[dict[str, dict[str, np.ndarray]], list[str], dict[str, np.ndarray]]:
    """editor -> metric id -> per-pair values (pair order), each pair's identity, and per editor
    the pairs it edited (a sample it failed to edit has a row without values)."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for s in samples:
        rows.setdefault(s["editor"], []).append(s)
    out: dict[str, dict[str, np.ndarray]] = {}
    clusters: list[str] = []
    edited = {
        e: np.array([i for i, r in enumerate(rs) if "failed" not in r], np.int64) for e, rs in rows.items()
    }
    for editor, rs in rows.items():
        keys = {k for r in rs for k in r["values"]}
        out[editor] = {
            k: np.array([np.nan if r["values"].get(k) is None else r["values"][k] for r in rs], np.float64)
            for k in keys
        }
        clusters = clusters or [str(r.get("identity_id") or "") for r in rs]
    return out, clusters, edited


def _centre(point: float, boot: np.ndarray) -> np.ndarray:
    finite = boot[np.isfinite(boot)]
    return boot - np.median(finite) + point if finite.size and np.isfinite(point) else boot


class RunStatistics:
    """Resampled values of every (system, metric) of a run, computed once and shared."""

    def __init__(
        self,
        entries: dict[str, dict[str, Any]],
        samples: list[dict[str, Any]],
        replicates: dict[str, list[str]],
        features: Features | None = None,
        n_resamples: int = N_RESAMPLES,
        seed: int = 0,
    ) -> None:
        self.entries = entries
        self.columns, clusters, self.edited_rows = _columns(samples)
        self.n_pairs = len(clusters)
        codes = cluster_codes(clusters, self.n_pairs)
        self.n_clusters = int(codes.max()) + 1 if codes.size else 0
        self.n_identities = n_identities(clusters)
        self.clustered = self.n_clusters < self.n_pairs
        rng = np.random.default_rng(seed)
        self.weights = pair_weights(codes, n_resamples, rng)
        n_set = SET_RESAMPLES if self.n_pairs <= 1000 else 50
        self.set_weights = self.weights[: min(n_set, n_resamples)]
        self.features = features or {}
        ok = [e for e, v in entries.items() if v.get("status") == "ok" and e in self.columns]
        in_replicates = {r for reps in replicates.values() for r in reps}
        self.systems: dict[str, list[str]] = {
            base: [r for r in reps if r in ok] for base, reps in replicates.items()
        }
        self.systems = {b: r for b, r in self.systems.items() if r}
        for e in ok:
            if e not in in_replicates:
                self.systems[e] = [e]
        self.seed_w = {
            name: seed_weights(len(reps), n_resamples, np.random.default_rng([seed, i + 1]))
            for i, (name, reps) in enumerate(self.systems.items())
        }
        self._editor_boot: dict[tuple[str, str], Boot | None] = {}

    # -- one editor -------------------------------------------------------------------------
    def editor_boot(self, editor: str, metric_id: str) -> Boot | None:
        """Point and resamples of one editor (one seed) for one metric, or None if not resamplable."""
        key = (editor, metric_id)
        if key not in self._editor_boot:
            self._editor_boot[key] = self._compute_editor_boot(editor, metric_id)
        return self._editor_boot[key]

    def _compute_editor_boot(self, editor: str, metric_id: str) -> Boot | None:
        entry = self.entries[editor]["metrics"].get(metric_id)
        if entry is None:
            return None
        column = self.columns.get(editor, {}).get(metric_id)
        if column is not None:
            point, boot = per_seed_means(column[None, :], self.weights)
            return Boot(point, boot)
        if editor not in self.features:
            return None
        edited, real = self.features[editor]
        rows = self.edited_rows.get(editor, np.arange(self.n_pairs))
        if len(rows) != len(edited):
            return None
        weights = self.set_weights[:, rows]
        boot = set_statistic(entry.get("key", metric_id.split("@")[0]), edited, real, weights)
        if boot is None:
            return None
        value = float(entry["value"])
        return Boot(np.array([value]), _centre(value, boot)[:, None], centred=True)

    def editor_interval(self, editor: str, metric_id: str) -> Interval | None:
        b = self.editor_boot(editor, metric_id)
        return None if b is None else percentile_interval(float(b.point[0]), b.boot[:, 0], LEVEL)

    # -- one system (an editor, or an editor's seeds pooled) --------------------------------
    def system_boot(self, system: str, metric_id: str) -> tuple[float, np.ndarray] | None:
        """Seed-pooled point value and ``(B,)`` resamples (pairs x seeds) of a system."""
        parts = [self.editor_boot(r, metric_id) for r in self.systems[system]]
        if not parts or any(p is None for p in parts):
            return None
        point = np.concatenate([p.point for p in parts])  # type: ignore[union-attr]
        boot = np.concatenate([p.boot for p in parts], axis=1)  # type: ignore[union-attr]
        return combine_seeds(point, boot, self.seed_w[system][: len(boot)])

    def system_interval(self, system: str, metric_id: str) -> Interval | None:
        got = self.system_boot(system, metric_id)
        return None if got is None else percentile_interval(got[0], got[1], LEVEL)

    def difference(self, a: str, b: str, metric_id: str) -> Interval | None:
        """System ``a`` minus system ``b`` on ``metric_id``, paired over pairs (and seeds)."""
        ga, gb = self.system_boot(a, metric_id), self.system_boot(b, metric_id)
        if ga is None or gb is None:
            return None
        return paired_difference(ga[0], ga[1], gb[0], gb[1], LEVEL)

    def cluster_note(self) -> str:
        if self.clustered:
            return f"identity clusters ({self.n_clusters} identities over {self.n_pairs} pairs)"
        if self.n_identities:
            return (
                f"pairs ({self.n_pairs} from {self.n_identities} identities, fewer than {MIN_CLUSTERS}: "
                "too few to resample whole identities; the interval ignores their correlation)"
            )
        return f"pairs ({self.n_pairs}; no identity labels)"
