"""Where an editor's gain comes from: its motion step, its texture step and the hue of its change.

A pass after the main one re-runs every editor on the run's pairs, in the main pass's
batches and through the same guarded call (:func:`.robust_edit.edit_rows`; the editors
are deterministic, so the edits are exactly the scored ones), and judges, with the run's
own AU and identity judges, these images of each pair:

* ``final``: the editor's output;
* ``no_hue``: the output with the hue of its change (vs the source) removed;
* for editors that expose their motion step's output (``EditOutput.warped``):
  ``motion`` (that output alone), ``warp_luma`` (it plus only the brightness part of the
  texture change ``final - warped``) and ``warp_hue`` (it plus only the hue part).

Each image is scored by the harness's own metrics: the AU MAE of every AU judge of the run
(a missed face scores the worst value, :mod:`faceedit_bench.metrics.metric_au_error`), the
joint success (:mod:`faceedit_bench.metrics.metric_success`: expression reached under every
AU judge, identity verified, face found) and, with ground truth, PSNR to the true target;
keys are the ``results.json`` metric ids, so ``final`` repeats the main pass's numbers
(checked: ``final_matches_main_pass``). A sample the editor could not edit scores the worst
AU error, no success and the PSNR of the image farthest from the target, in every variant.
The unchanged source is scored the same way (``unchanged``). Means get paired percentile intervals from one cluster bootstrap (whole
identities resampled, :mod:`.paired`) shared by every editor and variant, so each
``variant - final`` difference and each share of the gain is paired by construction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from faceedit_bench.api.aus import AU_NAMES
from faceedit_bench.api.batch import PairBatch
from faceedit_bench.api.dataset import PairSet
from faceedit_bench.api.editor import Editor, EditOutput
from faceedit_bench.api.step import BackendSet, BatchMemo, EvalStep
from faceedit_bench.harness.evaluation.robust_edit import edit_rows, subset
from faceedit_bench.harness.stats.comparisons import _degenerate_rate, _wilson
from faceedit_bench.harness.stats.paired import (
    LEVEL,
    MIN_CLUSTERS,
    N_RESAMPLES,
    cluster_codes,
    n_identities,
    pair_weights,
    paired_difference,
    per_seed_means,
    percentile_interval,
)
from faceedit_bench.metrics.functional.au_error import au_mae_mse, worst_case
from faceedit_bench.metrics.functional.psnr import psnr_regions
from faceedit_bench.metrics.metric_au_error import AUError, SecondJudgeAUError
from faceedit_bench.metrics.metric_success import EditSuccess

VARIANTS: dict[str, str] = {
    "final": "the editor's output",
    "no_hue": "the output with the hue of its change vs the source removed (luma of the output, chroma of the source)",
    "motion": "the motion step's output alone (EditOutput.warped)",
    "warp_luma": "motion step + only the brightness (luma) part of the texture change (final - warped)",
    "warp_hue": "motion step + only the hue (chroma) part of the texture change (final - warped)",
}
MOTION_VARIANTS = ("motion", "warp_luma", "warp_hue")
MIN_GAIN = 0.05  # ours: shares only of a gain whose interval lies above 5% of the unchanged error
SHARE_RULE = (
    f"(image - final) / (unchanged - final) in one AU judge's MAE, where that gain's interval lies above "
    f"{MIN_GAIN:.0%} of the unchanged error: "
    "for no_hue the share of the gain riding on the hue of the change, for motion the share the texture "
    "step makes (1 - it: the motion step's share)"
)
HUE_REMOVAL = (
    "YCbCr of ITU-R BT.601 (full range, linear in RGB): the image keeps the luma Y of the changed "
    "image and takes the chroma (Cb, Cr) of the image it was changed from, then is clipped to [0, 1]; "
    "so it is the image before the change plus the change's luma part alone"
)

# ITU-R BT.601 luma weights (JPEG's full-range YCbCr): Y = KR R + KG G + KB B.
KR, KB = 0.299, 0.114
KG = 1.0 - KR - KB


def to_ycbcr(rgb: torch.Tensor) -> torch.Tensor:
    """``(N, 3, H, W)`` RGB -> Y, Cb, Cr (chroma centred on 0, each in [-0.5, 0.5] for RGB in [0, 1])."""
    r, g, b = rgb.unbind(dim=1)
    y = KR * r + KG * g + KB * b
    return torch.stack([y, (b - y) / (2 * (1 - KB)), (r - y) / (2 * (1 - KR))], dim=1)


def from_ycbcr(ycc: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`to_ycbcr` (no clipping)."""
    y, cb, cr = ycc.unbind(dim=1)
    r = y + 2 * (1 - KR) * cr
    b = y + 2 * (1 - KB) * cb
    g = (y - KR * r - KB * b) / KG
    return torch.stack([r, g, b], dim=1)


def remove_hue(before: torch.Tensor, after: torch.Tensor) -> torch.Tensor:
    """``after`` with the hue of its change from ``before`` removed: after's luma, before's chroma.

    The one definition of "removing the hue of a change" in this package. In BT.601
    YCbCr, which is linear in RGB, a change ``after - before`` splits exactly into a
    luma part (Y changes, Cb and Cr do not) and a chroma part (the reverse); this keeps
    the luma part only, i.e. it returns ``before + luma part`` (clipped to [0, 1], the
    only non-linearity). A change that only recolours gives back ``before``; a change
    that only brightens or darkens (equal Cb, Cr) is kept whole. Chroma of a *moved*
    pixel counts as a change too: removing the hue of a pure warp leaves the colours
    where they were and moves only the brightness. Pixels the change left alone are
    returned bit for bit (no colour-space round trip).
    """
    before_ycc, after_ycc = to_ycbcr(before.float()), to_ycbcr(after.float())
    mixed = from_ycbcr(torch.cat([after_ycc[:, :1], before_ycc[:, 1:]], dim=1)).clamp(0, 1)
    unchanged = (before == after).all(dim=1, keepdim=True)
    return torch.where(unchanged, after, mixed.to(after.dtype))


def keep_only_hue(before: torch.Tensor, after: torch.Tensor) -> torch.Tensor:
    """``before`` plus only the hue (chroma) part of its change to ``after``: before's luma, after's chroma."""
    return remove_hue(after, before)


def variant_images(source: torch.Tensor, out: EditOutput) -> dict[str, torch.Tensor]:
    """The images judged for one batch of edits (see :data:`VARIANTS`), on ``source``'s device and dtype;
    the motion ones need ``out.warped``."""
    final = out.images.to(source)
    images = {"final": final, "no_hue": remove_hue(source, final)}
    if out.warped is not None:
        warped = out.warped.to(final)
        images.update(
            motion=warped, warp_luma=remove_hue(warped, final), warp_hue=keep_only_hue(warped, final)
        )
    return images


@dataclass
class _Columns:
    """Per-sample values of one run, in pair order: ``[owner][variant][key] -> (n,)``."""

    n: int
    values: dict[str, dict[str, dict[str, np.ndarray]]] = field(default_factory=dict)

    def put(self, owner: str, variant: str, rows: list[int], scores: dict[str, torch.Tensor]) -> None:
        slot = self.values.setdefault(owner, {}).setdefault(variant, {})
        for key, vals in scores.items():
            column = slot.setdefault(key, np.full(self.n, np.nan))
            column[rows] = vals.detach().double().cpu().numpy()


_AU_METRICS = ((AUError, "au_detector"), (SecondJudgeAUError, "au_detector_2"))


def au_metric_ids(backends: BackendSet) -> list[str]:
    """``au_mae@<label>`` of every AU judge of the run, the protocol's first judge first."""
    return [f"au_mae@{b.label}" for _, kind in _AU_METRICS if (b := backends.get(kind)) is not None]  # type: ignore[attr-defined]


@dataclass
class _Judge:
    """Scores images of one batch with the run's judges, through the harness's own metrics.

    AU MAE of every AU judge (:class:`AUError`, :class:`SecondJudgeAUError`), the joint
    success (:class:`EditSuccess`, with an identity judge) and PSNR to the truth (with one),
    keyed by metric id as in ``results.json``; source and truth readings are shared.
    """

    backends: BackendSet
    batch: PairBatch
    memo: BatchMemo = field(default_factory=BatchMemo)
    scored: list[tuple[torch.Tensor, dict[str, torch.Tensor]]] = field(default_factory=list)

    def score(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-sample values of ``images`` by metric id.

        Images equal to ones already scored in this batch (an editor that returns the source,
        a texture change of zero) reuse those scores: the judges are deterministic.
        """
        for seen, scores in self.scored:
            if torch.equal(seen, images):
                return scores
        scores = self._judge(images)
        self.scored.append((images, scores))
        return scores

    def _judge(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        step = EvalStep(self.batch, EditOutput(images=images), "attribution", self.backends, self.memo)
        out: dict[str, torch.Tensor] = {}
        for cls, kind in _AU_METRICS:
            judge = self.backends.get(kind)
            if judge is not None:
                out[f"au_mae@{judge.label}"] = cls(backend_label=judge.label).update(step)["au_mae"].cpu()  # type: ignore[attr-defined]
        if self.backends.identity is not None:
            label = self.backends.au_detector.label  # type: ignore[union-attr]
            out[f"success@{label}"] = EditSuccess(backend_label=label).update(step)["success"].cpu()
        if self.batch.target_image is not None:
            out["psnr@exact"] = psnr_regions(images, self.batch.target_image)["all"].cpu()
        return out

    def worst(self) -> dict[str, torch.Tensor]:
        """What a sample the editor could not edit scores: worst AU error, no success, far-image PSNR."""
        target = self.batch.target_aus
        out: dict[str, torch.Tensor] = {}
        for _, kind in _AU_METRICS:
            judge = self.backends.get(kind)
            if judge is None:
                continue
            measured = getattr(judge, "measured_aus", AU_NAMES)
            seen = torch.tensor([au in measured for au in AU_NAMES], device=target.device)
            worst = torch.where(seen, worst_case(target), float("nan"))
            out[f"au_mae@{judge.label}"] = au_mae_mse(worst, target)[0].cpu()  # type: ignore[attr-defined]
        if self.backends.identity is not None:
            label = self.backends.au_detector.label  # type: ignore[union-attr]
            out[f"success@{label}"] = torch.zeros(len(self.batch), dtype=torch.float64)
        if self.batch.target_image is not None:
            far = (self.batch.target_image < 0.5).to(self.batch.target_image.dtype)
            out["psnr@exact"] = psnr_regions(far, self.batch.target_image)["all"].cpu()
        return out


def _batches(n: int, batch_size: int) -> list[list[int]]:
    """Pair indices of each batch, as the main pass cuts them."""
    return [list(range(s, min(n, s + batch_size))) for s in range(0, n, batch_size)]


def _score_editor(
    judge: _Judge, cols: _Columns, name: str, editor: Editor, indices: list[int], state: dict[str, Any]
) -> None:
    """Edit one batch with ``editor`` and put every variant's scores of it into ``cols``."""
    batch = judge.batch
    out, rows, errors = edit_rows(editor, batch)
    state["failed"] += len(errors)
    state["edits"] = state["edits"] or bool(errors)  # a failure is scored, never hidden as "no edit"
    if errors:
        worst = judge.worst()
        failed = [indices[r] for r in errors]
        for variant in VARIANTS:
            cols.put(name, variant, failed, {k: v[list(errors)] for k, v in worst.items()})
    if out is None:
        return
    edited_rows = [indices[r] for r in rows]
    sub = judge if len(rows) == len(batch) else _Judge(judge.backends, subset(batch, rows))
    source = sub.batch.source
    images = variant_images(source, out)
    state["edits"] = state["edits"] or not torch.equal(images["final"], source)
    state["motion"] = state["motion"] or out.warped is not None
    for variant, variant_batch in images.items():
        cols.put(name, variant, edited_rows, sub.score(variant_batch))


def run_attribution(
    pairs: PairSet,
    editors: dict[str, Editor],
    backends: BackendSet,
    device: str,
    batch_size: int,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    main_metrics: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The ``attribution`` block of ``results.json`` for ``editors`` (those that did not fail).

    ``main_metrics`` (editor -> metric id -> entry, the main pass's): each editor's entry
    then says whether its final images score exactly what the main pass scored
    (``final_matches_main_pass``), i.e. whether the re-run reproduced the scored edits.
    """
    started = time.perf_counter()
    if backends.au_detector is None:
        return {"skipped": "no AU detector backend: nothing judges the expression"}
    n = len(pairs)
    cols = _Columns(n)
    clusters: list[str] = [""] * n
    states = {name: {"edits": False, "motion": False, "failed": 0} for name in editors}
    with torch.no_grad():
        for indices in _batches(n, batch_size):
            batch = pairs.batch(indices).to(device)
            for i, ident in zip(indices, batch.identity_ids or [""] * len(indices), strict=True):
                clusters[i] = ident
            judge = _Judge(backends, batch)
            cols.put("unchanged", "unchanged", indices, judge.score(batch.source))
            for name, editor in editors.items():
                _score_editor(judge, cols, name, editor, indices, states[name])
    block = _summarise(cols, clusters, states, backends, n_resamples, seed)
    if main_metrics is not None:
        check_reproduced(block, main_metrics)
    block["seconds"] = round(time.perf_counter() - started, 1)
    return block


def check_reproduced(block: dict[str, Any], main_metrics: dict[str, dict[str, Any]]) -> None:
    """Set ``final_matches_main_pass`` per editor; warn about editors whose re-run scores differ."""
    for name, entry in block.get("editors", {}).items():
        main = main_metrics.get(name, {})
        shared = [
            (v["value"], main[m]["value"])
            for m, v in entry.get("variants", {}).get("final", {}).items()
            if m in main
        ]
        if not shared:
            continue
        same = all(
            a is not None and b is not None and abs(a - b) <= 1e-6 * max(1.0, abs(b)) for a, b in shared
        )
        entry["final_matches_main_pass"] = same
        if not same:
            print(
                f"warning: attribution: re-running {name!r} did not reproduce the scored edits (a "
                "non-deterministic editor?); its attribution describes other edits than its scores"
            )


class _Boot:
    """Point values and resampled means of per-sample columns under one shared set of pair weights."""

    def __init__(self, clusters: list[str], n_resamples: int, seed: int) -> None:
        codes = cluster_codes(clusters, len(clusters))
        self.weights = pair_weights(codes, n_resamples, np.random.default_rng(seed))
        self.by_cluster = len(clusters) > 0 and codes.max() + 1 == n_identities(clusters)

    def mean(self, column: np.ndarray) -> tuple[float, np.ndarray]:
        point, boot = per_seed_means(column[None, :], self.weights)
        return float(point[0]), boot[:, 0]


def _entry(boot: _Boot, column: np.ndarray, metric_id: str) -> dict[str, Any]:
    """A metric entry as in ``results.json``: mean, 95% interval, n, backend, direction."""
    value, resampled = boot.mean(column)
    interval = percentile_interval(value, resampled)
    entry = {
        "value": _finite(value),
        "ci95": [_finite(interval.ci[0]), _finite(interval.ci[1])],
        "n": int(np.isfinite(column).sum()),
        "backend": metric_id.rpartition("@")[2],
        "higher_is_better": not metric_id.startswith("au_mae@"),
    }
    if metric_id.startswith("success@") and _degenerate_rate(column):
        entry["ci95"] = list(_wilson(column))
        entry["ci_method"] = "Wilson score interval (a 0/1 rate at 0 or 1: a bootstrap would give zero width)"
    return entry


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _summarise(
    cols: _Columns,
    clusters: list[str],
    states: dict[str, dict[str, Any]],
    backends: BackendSet,
    n_resamples: int,
    seed: int,
) -> dict[str, Any]:
    boot = _Boot(clusters, n_resamples, seed)
    unchanged = cols.values["unchanged"]["unchanged"]
    au_ids = au_metric_ids(backends)
    editors: dict[str, Any] = {}
    for name, state in states.items():
        if not state["edits"]:
            editors[name] = {
                "edits": False,
                "note": "its output is the source on every pair it edited: it scores the unchanged level",
            }
            continue
        shown = [v for v in VARIANTS if v not in MOTION_VARIANTS or state["motion"]]
        per = cols.values[name]
        gains = {m: _Gain(boot, unchanged[m], per["final"][m]) for m in au_ids}
        vs_final = {}
        for v in shown[1:]:  # every image but the final one, against it, on the same pairs
            vs_final[v] = {
                m: _difference(boot, per[v][m], per["final"][m]) for m in per[v] if m != "psnr@exact"
            }
            for m, gain in gains.items():
                vs_final[v][m]["share_of_gain_lost"] = gain.share_lost(per[v][m])
        editors[name] = {
            "edits": True,
            "has_motion_step": state["motion"],
            "failed_samples": state["failed"],
            "variants": {v: {m: _entry(boot, col, m) for m, col in per[v].items()} for v in shown},
            "gain": {m: gain.entry() for m, gain in gains.items()},
            "vs_final": vs_final,
        }
    resampled = (
        f"identity clusters ({n_identities(clusters)})"
        if boot.by_cluster
        else f"pairs (fewer than {MIN_CLUSTERS} identities, or none given)"
    )
    return {
        "method": (
            "each editor re-run on the run's pairs in the main pass's batches (same edits); every variant "
            "judged by the run's judges; mean and paired percentile bootstrap interval "
            f"({LEVEL:.0%}, {n_resamples} resamples of {resampled}, one set of weights for all numbers)"
        ),
        "hue_removal": HUE_REMOVAL,
        "variants": dict(VARIANTS),
        "success": EditSuccess.description,
        "share_of_gain_lost": SHARE_RULE,
        "n_pairs": cols.n,
        "unchanged": {m: _entry(boot, col, m) for m, col in unchanged.items()},
        "editors": editors,
    }


def _difference(boot: _Boot, a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    """``mean(a) - mean(b)`` on the same pairs with its paired interval and p-value."""
    both = np.isfinite(a) & np.isfinite(b)
    (va, ba), (vb, bb) = boot.mean(np.where(both, a, np.nan)), boot.mean(np.where(both, b, np.nan))
    d = paired_difference(va, ba, vb, bb)
    return {"value": _finite(d.value), "ci95": [_finite(d.ci[0]), _finite(d.ci[1])], "p": d.p}


class _Gain:
    """The AU-error gain ``unchanged - final`` of one editor and the share of it a variant loses.

    ``share_lost(variant) = (variant - final) / gain``: for ``no_hue`` the share that rides on
    the hue of the change, for ``motion`` the share the texture step makes (1 - it: the
    motion step's share). Reported only when the gain's interval lies above
    :data:`MIN_GAIN` of the unchanged error: a share of a negligible gain divides by noise.
    """

    def __init__(self, boot: _Boot, unchanged: np.ndarray, final: np.ndarray) -> None:
        self.boot = boot
        self.final = boot.mean(final)
        base = boot.mean(unchanged)
        self.value, self.resampled = base[0] - self.final[0], base[1] - self.final[1]
        self.interval = percentile_interval(self.value, self.resampled)
        self.floor = MIN_GAIN * base[0]

    def entry(self) -> dict[str, Any]:
        return {"value": _finite(self.value), "ci95": [_finite(c) for c in self.interval.ci]}

    def share_lost(self, variant: np.ndarray) -> dict[str, Any]:
        if not self.interval.ci[0] > self.floor:
            why = f"no AU-error gain over the unchanged face above {MIN_GAIN:.0%} of its error"
            return {"value": None, "ci95": None, "note": why}
        value, resampled = self.boot.mean(variant)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = percentile_interval(
                (value - self.final[0]) / self.value, (resampled - self.final[1]) / self.resampled
            )
        return {"value": _finite(share.value), "ci95": [_finite(c) for c in share.ci]}
