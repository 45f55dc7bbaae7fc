"""Sampling-grid parametrisations and warp regularisers, as pure functions.

``increments``: the warper of Deforming Autoencoders (Shu et al., ECCV 2018). A
network predicts per-pixel *non-negative* grid increments; integrating them
(cumulative sum along x for the x coordinate, along y for y) gives a sampling grid
that is monotone in both directions, so the warp cannot fold. One increment moves
every pixel after it on its row or column, which shows as row/column stripes when
the network is small and the training short (measured: README, "Training recipes").

``displacement`` (ours): the network predicts the displacement itself, bounded by
``tanh`` to ``MAX_DISPLACEMENT``; a pixel's motion no longer depends on the rest of
its row. Folding is discouraged by the TV regulariser rather than excluded.

The flow regularisers (TV, magnitude, bias-reduce) are training losses:
:mod:`faceedit_bench.training.losses`. Grids follow :class:`PairBatch`: backward ``grid_sample``
grids ``(N, H, W, 2)`` in ``[-1, 1]`` with ``align_corners=False``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

MAX_STRETCH = 2.0  # largest local stretch factor an increment can express (ours)


def identity_grid(
    n: int, h: int, w: int, device: torch.device | str = "cpu", dtype=torch.float32
) -> torch.Tensor:
    """The grid that samples every pixel at its own centre: ``(n, h, w, 2)``."""
    ys = (torch.arange(h, device=device, dtype=dtype) * 2 + 1) / h - 1
    xs = (torch.arange(w, device=device, dtype=dtype) * 2 + 1) / w - 1
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx, gy], dim=-1).unsqueeze(0).expand(n, h, w, 2)


def increments_to_grid(raw: torch.Tensor) -> torch.Tensor:
    """Integrate raw increments ``(N, 2, H, W)`` into a sampling grid ``(N, H, W, 2)``.

    ``raw = 0`` everywhere gives exactly the identity grid: each increment is
    ``(2 / size) * MAX_STRETCH * sigmoid(raw)``, so its identity value is one pixel
    step and its range is ``[0, MAX_STRETCH)`` pixel steps.
    """
    _, _, h, w = raw.shape
    steps = torch.sigmoid(raw.float()) * MAX_STRETCH
    dx = steps[:, 0] * (2.0 / w)
    dy = steps[:, 1] * (2.0 / h)
    gx = torch.cumsum(dx, dim=2) - 1.0 - 1.0 / w
    gy = torch.cumsum(dy, dim=1) - 1.0 - 1.0 / h
    return torch.stack([gx, gy], dim=-1)


MAX_DISPLACEMENT = 0.2  # grid units (10% of the image side): the largest displacement (ours)


def displacement_to_grid(raw: torch.Tensor) -> torch.Tensor:
    """Raw displacement logits ``(N, 2, H, W)`` -> identity + ``MAX_DISPLACEMENT * tanh(raw)``.

    ``raw = 0`` everywhere gives exactly the identity grid.
    """
    n, _, h, w = raw.shape
    disp = torch.tanh(raw.float()).permute(0, 2, 3, 1) * MAX_DISPLACEMENT
    return identity_grid(n, h, w, raw.device) + disp


FLOW_PARAMETRISATIONS = {"increments": increments_to_grid, "displacement": displacement_to_grid}


def apply_warp(images: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """Backward-warp ``images`` with ``grid`` (bilinear, border padding)."""
    return F.grid_sample(
        images, grid.to(images.dtype), mode="bilinear", padding_mode="border", align_corners=False
    )


def displacement_pixels(grid: torch.Tensor) -> torch.Tensor:
    """Grid minus identity, in pixels: ``(N, H, W, 2)``."""
    n, h, w, _ = grid.shape
    ident = identity_grid(n, h, w, grid.device, grid.dtype)
    scale = torch.tensor([w / 2.0, h / 2.0], device=grid.device, dtype=grid.dtype)
    return (grid - ident) * scale
