"""AU-intensity errors between detected and requested (or detected real) AU vectors.

Only AUs that both vectors define count; a detector marks AUs it cannot see, and
faces it cannot find (whole row), with NaN. A sample with nothing comparable is NaN.
"""

from __future__ import annotations

import torch


def au_abs_errors(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``|pred - target|`` ``(N, A)`` float64, NaN wherever either side is NaN."""
    if pred.dim() != 2 or pred.shape != target.shape:
        raise ValueError(
            f"au_error: expected two (N, A) AU tensors of one shape, got {tuple(pred.shape)} and {tuple(target.shape)}"
        )
    return (pred.to(torch.float64) - target.to(torch.float64)).abs()


def nan_row_mean(values: torch.Tensor) -> torch.Tensor:
    """Row means over non-NaN entries; NaN for rows with none."""
    valid = ~torch.isnan(values)
    count = valid.sum(dim=1)
    total = torch.where(valid, values, torch.zeros_like(values)).sum(dim=1)
    mean = total / count.clamp_min(1)
    return torch.where(count > 0, mean, torch.full_like(mean, float("nan")))


def au_mae_mse(pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample MAE and MSE over the AUs both ``pred`` and ``target`` define."""
    err = au_abs_errors(pred, target)
    return nan_row_mean(err), nan_row_mean(err**2)


AU_MAX = 5.0  # intensity scale of the AU vocabulary


def no_face(detected: torch.Tensor) -> torch.Tensor:
    """``(N,)`` bool: rows where the detector found no face (every AU NaN)."""
    return torch.isnan(detected).all(dim=1)


def worst_case(target: torch.Tensor, scale: float = AU_MAX) -> torch.Tensor:
    """The detection farthest from ``target`` on ``[0, scale]``: what a missed face is scored as."""
    return torch.where(target.to(torch.float64) <= scale / 2, scale, 0.0).to(torch.float64)
