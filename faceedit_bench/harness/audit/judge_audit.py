"""Judge audit: how far each AU judge can be pushed toward the requested AUs without an edit.

DESIGN.md, "Trust by construction": a number is only as good as the cheapest way to
reach it without editing. On the protocol's first source images (at most
:data:`MAX_SOURCES`) the audit reports the judged AU MAE against the requested AUs of

- the unchanged sources (what copying the input scores),
- the true targets, where the protocol has them (what a perfect edit scores),
- sources changed by an attack that sees only the judge: for a judge with gradients
  (:meth:`AUDetector.differentiable`) a white-box PGD within ``±e/255`` per pixel
  (:func:`~faceedit_bench.metrics.functional.attack.pgd_toward`, 8-bit rounded), per
  budget ``e``; for any other judge a black-box probe (:mod:`.judge_probes`: colour
  blobs, occluding patches, blur, half-face masks; not limited to a budget), each
  sample taking its best of several random draws, as a caller with query access would;

and "gap closed" = (unchanged - reached) / (unchanged - truth, or 0 without truth).
The MAE is the harness's ``au_mae``: the AUs both the judge and the request define,
a missed face scored as the worst value of the scale, the mean over samples.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch

from faceedit_bench.api.aus import AU_NAMES
from faceedit_bench.api.backends import AUDetector
from faceedit_bench.api.dataset import PairSet
from faceedit_bench.api.step import BackendSet, resize_square
from faceedit_bench.harness.audit.judge_probes import PROBES
from faceedit_bench.metrics.functional.attack import pgd_toward, quantise
from faceedit_bench.metrics.functional.au_error import au_mae_mse, no_face, worst_case

DEFAULT_BUDGETS = (1, 2, 4)  # L-inf budgets in 8-bit levels (1/255)
MAX_SOURCES = 64
PROBE_DRAWS = 3
CHUNK = 32  # images per judge call
WHITE_BOX = "white-box PGD"
BLACK_BOX = "black-box"


def judged_mae(detector: AUDetector, images: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, int]:
    """``(N,)`` per-sample AU MAE (float64) of the judge's reading of ``images`` vs ``target``, and its misses.

    As the ``au_error`` metric scores it: images resized to the judge's input, a missed
    face (all-NaN row) scored as :func:`worst_case` on the AUs the judge measures.
    """
    detected = torch.cat(
        [
            detector.detect(resize_square(images[i : i + CHUNK], detector.input_size)).cpu()
            for i in range(0, len(images), CHUNK)
        ]
    )
    target = target.detach().cpu()
    seen = torch.tensor([au in detector.measured_aus for au in AU_NAMES])
    worst = torch.where(seen, worst_case(target), float("nan"))
    missed = no_face(detected)
    scored = torch.where(missed[:, None], worst, detected.to(torch.float64))
    return au_mae_mse(scored, target)[0], int(missed.sum())


def _mean(values: torch.Tensor) -> float | None:
    finite = values[~torch.isnan(values)]
    return float(finite.mean()) if len(finite) else None


def gap_closed(unchanged: float | None, reached: float | None, floor: float | None) -> float | None:
    """(unchanged - reached) / (unchanged - floor); None where undefined (floor None counts as 0)."""
    if unchanged is None or reached is None:
        return None
    span = unchanged - (floor if floor is not None else 0.0)
    return (unchanged - reached) / span if span > 1e-9 else None


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None or not math.isfinite(x) else round(x, digits)


def white_box(
    detector: AUDetector,
    judge: Callable[[torch.Tensor], torch.Tensor],
    sources: torch.Tensor,
    target: torch.Tensor,
    budgets: Sequence[float],
    steps: int,
) -> list[dict[str, Any]]:
    """Per budget ``e``: the MAE the judge reads on PGD images within ``±e/255`` of ``sources``."""
    device = getattr(detector, "device", torch.device("cpu"))
    # from the 8-bit source (what a saved image holds), so the rounded result is within exactly e levels
    x0, goal = quantise(sources).to(device), target.to(device, torch.float32)
    rows = []
    for e in budgets:
        adv = torch.cat(
            [
                pgd_toward(judge, x0[i : i + CHUNK], goal[i : i + CHUNK], eps=e / 255, steps=steps)
                for i in range(0, len(x0), CHUNK)
            ]
        )
        mae, missed = judged_mae(detector, adv.cpu(), target)
        rows.append({
            "eps_255": e,
            "reached_mae": _mean(mae),
            "missed_faces": missed,
            "max_change_255": round(float((adv - x0).abs().max()) * 255, 3) if len(adv) else 0.0,
        })  # fmt: skip
    return rows


def black_box(
    detector: AUDetector, sources: torch.Tensor, target: torch.Tensor, draws: int, seed: int = 0
) -> tuple[dict[str, dict[str, Any]], torch.Tensor]:
    """Per probe family, the mean over samples of each sample's lowest MAE over ``draws``
    random draws; and the per-sample lowest over every family and draw."""
    gen = torch.Generator().manual_seed(seed)
    families: dict[str, dict[str, Any]] = {}
    best_all = torch.full((len(sources),), float("nan"), dtype=torch.float64)
    for name, probe in PROBES.items():
        best = torch.full((len(sources),), float("nan"), dtype=torch.float64)
        for _ in range(draws):
            best = torch.fmin(best, judged_mae(detector, probe(sources, gen), target)[0])
        families[name] = {"reached_mae": _mean(best), "draws": draws}
        best_all = torch.fmin(best_all, best)
    return families, best_all


def audit_au_judge(
    detector: AUDetector,
    sources: torch.Tensor,
    target_aus: torch.Tensor,
    truth: torch.Tensor | None = None,
    budgets: Sequence[float] = DEFAULT_BUDGETS,
    steps: int = 40,
    max_sources: int = MAX_SOURCES,
    draws: int = PROBE_DRAWS,
    black_box_probe: bool | None = None,
) -> dict[str, Any]:
    """The audit block of one AU judge on the first ``max_sources`` of ``sources`` (see module doc).

    ``black_box_probe`` None: white-box where the judge has gradients, else black-box.
    """
    started = time.perf_counter()
    n = min(len(sources), max_sources)
    sources, target = sources[:n].detach().float().cpu(), target_aus[:n].detach().cpu()
    judge = detector.differentiable()
    black = judge is None if black_box_probe is None else black_box_probe
    if judge is None and not black:
        raise ValueError(f"{detector.label}: the judge has no gradients; only the black-box probe applies")
    unchanged_rows, missed = judged_mae(detector, sources, target)
    unchanged = _mean(unchanged_rows)
    truth_mae = (
        None if truth is None else _mean(judged_mae(detector, truth[:n].detach().float().cpu(), target)[0])
    )
    block: dict[str, Any] = {
        "label": detector.label,
        "method": BLACK_BOX if black else WHITE_BOX,
        "n_sources": n,
        "unchanged_mae": _round(unchanged),
        "unchanged_missed_faces": missed,
        "truth_mae": _round(truth_mae),
    }
    if black:
        families, best = black_box(detector, sources, target, draws)
        for entry in families.values():
            entry["gap_closed"] = _round(gap_closed(unchanged, entry["reached_mae"], truth_mae))
            entry["reached_mae"] = _round(entry["reached_mae"])
        reached = _mean(best)
        found = {k: v["reached_mae"] for k, v in families.items() if v["reached_mae"] is not None}
        block["probes"] = families
        block["best"] = {
            "probe": min(found, key=found.__getitem__) if found else None,
            "reached_mae": _round(reached),
            "gap_closed": _round(gap_closed(unchanged, reached, truth_mae)),
        }
    else:
        rows = white_box(detector, judge, sources, target, budgets, steps)  # type: ignore[arg-type]
        for row in rows:
            row["gap_closed"] = _round(gap_closed(unchanged, row["reached_mae"], truth_mae))
            row["reached_mae"] = _round(row["reached_mae"])
        block["steps"] = steps
        block["budgets"] = rows
    block["seconds"] = round(time.perf_counter() - started, 2)
    return block


def au_judges(backends: BackendSet) -> dict[str, AUDetector]:
    """The AU judges of a run: every backend kind whose name starts with ``au_detector``, if present."""
    kinds = [f.name for f in dataclasses.fields(backends) if f.name.startswith("au_detector")]
    return {k: b for k in kinds if isinstance(b := backends.get(k), AUDetector)}


def audit_pairs(
    backends: BackendSet,
    pairs: PairSet,
    max_sources: int = MAX_SOURCES,
    budgets: Sequence[float] = DEFAULT_BUDGETS,
    steps: int = 40,
) -> dict[str, dict[str, Any]]:
    """``{judge label: audit block}`` for each AU judge on the first ``max_sources`` pairs."""
    judges = au_judges(backends)
    if not judges or len(pairs) == 0:
        return {}
    batch = pairs.batch(list(range(min(max_sources, len(pairs)))))
    out: dict[str, dict[str, Any]] = {}
    for kind, detector in judges.items():
        key = detector.label if detector.label not in out else f"{detector.label} ({kind})"
        try:
            block = audit_au_judge(
                detector, batch.source, batch.target_aus, batch.target_image, budgets, steps, max_sources
            )
        except Exception as err:  # a run's results must not be lost to its audit: say why it is missing
            block = {"label": detector.label, "error": f"{type(err).__name__}: {err}"}
        out[key] = {
            "kind": kind,
            **block,
            "n_pairs": len(pairs),
            "sources": "the first pairs of the protocol",
        }
    return out
