"""Black-box probes of an AU judge: image changes that are no edit but may move its reading.

Each family draws its own random parameters per image (``torch.Generator``, so a seed
fixes them): smooth colour blobs, a flat occluding patch, a Gaussian blur, and a flat
mask over the lower or the upper half of the face. They are not limited to a small
L-inf budget: they ask whether paint, occlusion or blur alone reads as an expression.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

Probe = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def _uniform(shape: tuple[int, ...], lo: float, hi: float, gen: torch.Generator) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(shape, generator=gen)


def colour_blobs(images: torch.Tensor, gen: torch.Generator, blobs: int = 3) -> torch.Tensor:
    """Up to half-opaque Gaussian blobs of random colour, centre and size (0.08-0.25 of the side)."""
    n, _, h, w = images.shape
    ys = torch.linspace(0, 1, h).view(1, 1, h, 1)
    xs = torch.linspace(0, 1, w).view(1, 1, 1, w)
    centre = _uniform((n, blobs, 2), 0.1, 0.9, gen)
    sigma = _uniform((n, blobs), 0.08, 0.25, gen)[..., None, None]
    alpha = _uniform((n, blobs), 0.2, 0.5, gen)[..., None, None]
    colour = torch.rand((n, blobs, 3), generator=gen)
    out = images.detach().float().cpu().clone()
    dist2 = (ys - centre[..., 0, None, None]) ** 2 + (xs - centre[..., 1, None, None]) ** 2
    masks = alpha * torch.exp(-dist2 / (2 * sigma**2))  # (N, blobs, H, W)
    for k in range(blobs):
        m = masks[:, k, None]
        out = out * (1 - m) + m * colour[:, k, :, None, None]
    return out.clamp(0, 1)


def occlusion(images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """One flat patch of random colour covering 15-35% of the side in each direction."""
    n, _, h, w = images.shape
    out = images.detach().float().cpu().clone()
    side = _uniform((n, 2), 0.15, 0.35, gen)
    corner = torch.rand((n, 2), generator=gen) * (1 - side)
    colour = torch.rand((n, 3), generator=gen)
    for i in range(n):
        y0, x0 = int(corner[i, 0] * h), int(corner[i, 1] * w)
        y1, x1 = y0 + max(1, round(float(side[i, 0]) * h)), x0 + max(1, round(float(side[i, 1]) * w))
        out[i, :, y0:y1, x0:x1] = colour[i, :, None, None]
    return out


def gaussian_blur(images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """A Gaussian blur of sigma 0.5-2.5 px at 64 px (scaled with the resolution)."""
    n, c, h, _ = images.shape
    sigmas = _uniform((n,), 0.5, 2.5, gen) * h / 64
    out = images.detach().float().cpu().clone()
    for i in range(n):
        s = float(sigmas[i])
        r = max(1, min(int(3 * s + 0.5), h // 2 - 1))
        t = torch.arange(-r, r + 1, dtype=torch.float32)
        k = torch.exp(-(t**2) / (2 * s**2))
        k = k / k.sum()
        x = F.pad(out[i : i + 1], (r, r, r, r), mode="reflect")
        x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
        out[i] = F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)[0]
    return out.clamp(0, 1)


def _half_mask(images: torch.Tensor, gen: torch.Generator, lower: bool) -> torch.Tensor:
    """The lower (or upper) part of the image, cut 40-60% down, filled with one random grey or the image mean."""
    n, _, h, _ = images.shape
    out = images.detach().float().cpu().clone()
    cut = _uniform((n,), 0.4, 0.6, gen)
    grey = torch.rand((n,), generator=gen)
    use_mean = torch.rand((n,), generator=gen) < 0.5
    for i in range(n):
        row = int(float(cut[i]) * h)
        fill = out[i].mean(dim=(1, 2)) if use_mean[i] else grey[i].expand(3)
        rows = slice(row, h) if lower else slice(0, row)
        out[i, :, rows, :] = fill[:, None, None]
    return out


def lower_half_mask(images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """The lower face (mouth, chin) masked flat."""
    return _half_mask(images, gen, lower=True)


def upper_half_mask(images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """The upper face (brows, eyes) masked flat."""
    return _half_mask(images, gen, lower=False)


PROBES: dict[str, Probe] = {
    "colour blobs": colour_blobs,
    "occlusion patch": occlusion,
    "blur": gaussian_blur,
    "lower-half mask": lower_half_mask,
    "upper-half mask": upper_half_mask,
}
