"""Per-sample means of a per-pixel map over a mask, its complement, or everything."""

from __future__ import annotations

import torch


def check_mask(mask: torch.Tensor, like: torch.Tensor, what: str = "texture_mask") -> torch.Tensor:
    """``mask`` as ``(N, H, W)`` float64 in {0, 1}, matching the ``(N, H, W)`` map ``like``."""
    if mask.dim() == 4:
        if mask.shape[1] != 1:
            raise ValueError(f"{what}: expected (N, 1, H, W), got {tuple(mask.shape)}")
        mask = mask[:, 0]
    if mask.shape != like.shape:
        raise ValueError(f"{what}: shape {tuple(mask.shape)} does not match the images' {tuple(like.shape)}")
    return (mask > 0.5).to(torch.float64)


def masked_mean(values: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    """Mean of ``values (N, H, W)`` per sample, weighted by ``weights (N, H, W)`` in {0, 1}.

    A sample whose weights are all zero gets NaN (nothing to measure there).
    """
    values = values.to(torch.float64)
    if weights is None:
        return values.flatten(1).mean(dim=1)
    w = weights.to(torch.float64).flatten(1)
    total = w.sum(dim=1)
    mean = (values.flatten(1) * w).sum(dim=1) / total.clamp_min(1.0)
    return torch.where(total > 0, mean, torch.full_like(mean, float("nan")))


def region_means(values: torch.Tensor, mask: torch.Tensor | None) -> dict[str, torch.Tensor]:
    """``{"all", "in", "out"}`` means of ``values (N, H, W)``; in/out are NaN without a mask."""
    out = {"all": masked_mean(values)}
    if mask is None:
        nan = torch.full_like(out["all"], float("nan"))
        out["in"], out["out"] = nan, nan.clone()
    else:
        m = check_mask(mask, values)
        out["in"] = masked_mean(values, m)
        out["out"] = masked_mean(values, 1.0 - m)
    return out
