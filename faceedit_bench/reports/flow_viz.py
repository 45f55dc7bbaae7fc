"""Flow visualisation: ``grid_sample`` grids to pixel displacements, colour-wheel images.

A backward grid (``align_corners=False``) gives, for each output pixel, where in the
input it samples, in [-1, 1]. Its displacement from the identity grid, scaled by
half the image size, is the backward flow in pixels. The colour coding follows the
Middlebury convention (Baker et al., IJCV 2011): hue = direction, saturation =
magnitude relative to the largest shown.
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import hsv_to_rgb


def identity_grid(h: int, w: int) -> np.ndarray:
    """(H, W, 2) identity grid (x, y) for ``align_corners=False``."""
    ys = (np.arange(h) * 2 + 1) / h - 1
    xs = (np.arange(w) * 2 + 1) / w - 1
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx, gy], axis=-1)


def grid_to_displacement(grid: np.ndarray) -> np.ndarray:
    """(..., H, W, 2) sampling grid in [-1, 1] -> backward displacement in pixels (dx, dy)."""
    grid = np.asarray(grid, dtype=np.float64)
    if grid.ndim < 3 or grid.shape[-1] != 2:
        raise ValueError(f"flow grid must have shape (..., H, W, 2), got {grid.shape}")
    h, w = grid.shape[-3:-1]
    disp = grid - identity_grid(h, w)
    return disp * np.array([w / 2.0, h / 2.0])


def flow_to_rgb(disp: np.ndarray, max_magnitude: float | None = None) -> np.ndarray:
    """(H, W, 2) displacement -> (H, W, 3) float RGB in [0, 1] (white = no motion)."""
    dx, dy = disp[..., 0], disp[..., 1]
    mag = np.hypot(dx, dy)
    scale = max_magnitude if max_magnitude is not None else float(mag.max())
    hue = (np.arctan2(-dy, dx) / (2 * np.pi)) % 1.0  # image y points down: flip for a math angle
    sat = np.clip(mag / scale, 0, 1) if scale > 0 else np.zeros_like(mag)
    return hsv_to_rgb(np.stack([hue, sat, np.ones_like(mag)], axis=-1))


def color_wheel(size: int = 64) -> np.ndarray:
    """(size, size, 4) RGBA legend: the colour of each direction at full magnitude."""
    c = (np.arange(size) + 0.5) / size * 2 - 1
    x, y = np.meshgrid(c, c)
    rgb = flow_to_rgb(np.stack([x, y], axis=-1), max_magnitude=1.0)
    alpha = (np.hypot(x, y) <= 1.0).astype(float)
    return np.concatenate([rgb, alpha[..., None]], axis=-1)
