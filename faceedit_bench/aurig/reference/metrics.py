"""Validation numbers of the reference networks: per-AU MAE / Pearson r, identity EER and threshold.

The identity verification threshold follows :data:`THRESHOLD_RULE`: the midpoint of
the gap between the highest impostor score and the lowest genuine score when the two
separate (a max-margin cut: as far from every recorded impostor as from every recorded
genuine pair), else the equal-error-rate point.
"""

from __future__ import annotations

import numpy as np
import torch

from faceedit_bench.api.aus import AU_NAMES


def au_scores(pred: torch.Tensor, true: torch.Tensor) -> dict[str, object]:
    """Per-AU mean absolute error and Pearson correlation (0-5 scale)."""
    mae = (pred - true).abs().mean(0)
    pc, tc = pred - pred.mean(0), true - true.mean(0)
    r = (pc * tc).sum(0) / (pc.norm(dim=0) * tc.norm(dim=0)).clamp(min=1e-12)
    return {
        "mae_mean": float(mae.mean()),
        "mae_max": float(mae.max()),
        "pearson_min": float(r.min()),
        "pearson_mean": float(r.mean()),
        "per_au": {
            name: {"mae": float(m), "pearson": float(c)} for name, m, c in zip(AU_NAMES, mae, r, strict=True)
        },
    }


def equal_error_rate(same: torch.Tensor, diff: torch.Tensor) -> tuple[float, float]:
    """(EER, threshold) for similarity scores of matching and non-matching pairs."""
    thresholds = torch.sort(torch.cat([same, diff])).values
    same_s, diff_s = torch.sort(same).values, torch.sort(diff).values
    frr = torch.searchsorted(same_s, thresholds, side="left").double() / len(same)  # same < t
    far = 1 - torch.searchsorted(diff_s, thresholds, side="left").double() / len(diff)  # diff >= t
    i = int(torch.argmin((frr - far).abs()))
    return float((frr[i] + far[i]) / 2), float(thresholds[i])


def pair_scores(emb: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Cosine similarities of all same-identity pairs and all different-identity pairs."""
    sim = emb @ emb.t()
    iu = torch.triu_indices(len(labels), len(labels), offset=1)
    s = sim[iu[0], iu[1]]
    same = labels[iu[0]] == labels[iu[1]]
    return s[same], s[~same]


THRESHOLD_RULE = (
    "midpoint of the gap between the highest impostor cosine (different identities) and the lowest "
    "genuine cosine (same identity, other expression) on the val identities when they separate; "
    "the val equal-error-rate point when they overlap"
)
QUANTILES = {"p0.1": 0.001, "p1": 0.01, "p5": 0.05, "p50": 0.5, "p95": 0.95, "p99": 0.99, "p99.9": 0.999}


def verification_threshold(same: torch.Tensor, diff: torch.Tensor) -> tuple[float, str]:
    """(threshold, how) by :data:`THRESHOLD_RULE` for genuine ``same`` and impostor ``diff`` scores."""
    if len(same) == 0 or len(diff) == 0:
        raise ValueError(
            f"verification threshold: needs genuine and impostor scores, got {len(same)} and {len(diff)}"
        )
    lowest_genuine, highest_impostor = float(same.min()), float(diff.max())
    if lowest_genuine > highest_impostor:
        return (lowest_genuine + highest_impostor) / 2, "gap midpoint (genuine and impostor scores separate)"
    return equal_error_rate(same, diff)[1], "EER point (genuine and impostor scores overlap)"


def error_rates(same: torch.Tensor, diff: torch.Tensor, threshold: float) -> dict[str, float]:
    """False-accept (impostor >= threshold) and false-reject (genuine < threshold) rates."""
    return {
        "far": float((diff >= threshold).double().mean()),
        "frr": float((same < threshold).double().mean()),
    }


def score_summary(scores: torch.Tensor) -> dict[str, float]:
    """Count, mean, min, max and :data:`QUANTILES` of a set of similarity scores."""
    x = scores.double().numpy()
    q = np.quantile(x, list(QUANTILES.values()))  # numpy: torch.quantile refuses over 2**24 scores
    return {
        "n": len(x),
        "mean": float(x.mean()),
        "min": float(x.min()),
        **{name: float(v) for name, v in zip(QUANTILES, q, strict=True)},
        "max": float(x.max()),
    }
