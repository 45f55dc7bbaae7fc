"""End-point error between backward sampling grids, in pixels.

Grids are ``grid_sample`` grids ``(N, H, W, 2)`` holding (x, y) in [-1, 1] with
``align_corners=False``: pixel coordinate ``p = ((g + 1) * size - 1) / 2``, so a
grid difference ``dg`` is ``dg * size / 2`` pixels.
"""

from __future__ import annotations

import torch

from faceedit_bench.metrics.functional.masked import region_means


def grid_to_pixels(grid: torch.Tensor) -> torch.Tensor:
    """Absolute pixel coordinates (x, y) of an ``(N, H, W, 2)`` grid (align_corners=False)."""
    h, w = grid.shape[1], grid.shape[2]
    size = torch.tensor([w, h], dtype=torch.float64, device=grid.device)
    return ((grid.to(torch.float64) + 1.0) * size - 1.0) / 2.0


def epe_map(pred: torch.Tensor, true: torch.Tensor) -> torch.Tensor:
    """Per-pixel Euclidean distance in pixels between two grids, ``(N, H, W)`` float64."""
    if pred.dim() != 4 or pred.shape[-1] != 2 or pred.shape != true.shape:
        raise ValueError(
            f"flow_epe: expected two (N, H, W, 2) grids of one shape, got {tuple(pred.shape)} and {tuple(true.shape)}"
        )
    return (grid_to_pixels(pred) - grid_to_pixels(true)).norm(dim=-1)


def epe_regions(
    pred: torch.Tensor, true: torch.Tensor, mask: torch.Tensor | None = None
) -> dict[str, torch.Tensor]:
    """Mean EPE per sample over ``all`` pixels and ``in``/``out`` of ``mask`` (target-pixel mask)."""
    return region_means(epe_map(pred, true), mask)
