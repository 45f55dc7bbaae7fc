"""Validation numbers of the reference networks: per-AU MAE / Pearson r, identity EER."""

from __future__ import annotations

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
