"""Structural similarity (Wang, Bovik, Sheikh, Simoncelli, IEEE TIP 2004).

Gaussian window sigma 1.5 truncated at 3.5 sigma (11 taps), K1 0.01, K2 0.03,
population covariances, the map averaged over channels and over the pixels whose
window lies fully inside the image: the same numbers as
``skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=R, channel_axis=...)``. Computing the map
only on those valid pixels (a convolution without padding) gives exactly
skimage's cropped map, whatever its border mode.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from faceedit_bench.metrics.functional.masked import region_means
from faceedit_bench.metrics.functional.psnr import check_pair

SIGMA = 1.5
TRUNCATE = 3.5
K1, K2 = 0.01, 0.03


def gaussian_kernel1d(sigma: float = SIGMA, truncate: float = TRUNCATE) -> torch.Tensor:
    """Normalised 1-D Gaussian with scipy.ndimage's radius ``int(truncate * sigma + 0.5)``."""
    radius = int(truncate * sigma + 0.5)
    x = torch.arange(-radius, radius + 1, dtype=torch.float64)
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def _filter_valid(x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian filter of ``(N, C, H, W)`` without padding (valid region only)."""
    c = x.shape[1]
    kx = k.view(1, 1, 1, -1).expand(c, 1, 1, -1)
    ky = k.view(1, 1, -1, 1).expand(c, 1, -1, 1)
    return F.conv2d(F.conv2d(x, kx, groups=c), ky, groups=c)


def ssim_map(a: torch.Tensor, b: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """SSIM map ``(N, H - 2r, W - 2r)`` float64, averaged over channels (r = window radius)."""
    check_pair(a, b, "ssim")
    k = gaussian_kernel1d().to(a.device)
    radius = (k.numel() - 1) // 2
    if min(a.shape[-2:]) < 2 * radius + 1:
        raise ValueError(
            f"ssim: images of {tuple(a.shape[-2:])} px are smaller than the {2 * radius + 1}-px window"
        )
    x, y = a.to(torch.float64), b.to(torch.float64)
    ux, uy = _filter_valid(x, k), _filter_valid(y, k)
    vx = _filter_valid(x * x, k) - ux * ux
    vy = _filter_valid(y * y, k) - uy * uy
    vxy = _filter_valid(x * y, k) - ux * uy
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux**2 + uy**2 + c1) * (vx + vy + c2))
    return s.mean(dim=1)


def crop_to_map(mask: torch.Tensor, map_hw: tuple[int, int]) -> torch.Tensor:
    """Crop an ``(N, [1,] H, W)`` mask centrally to the SSIM map's valid region."""
    h, w = mask.shape[-2:]
    ph, pw = (h - map_hw[0]) // 2, (w - map_hw[1]) // 2
    return mask[..., ph : h - ph, pw : w - pw]


def ssim_regions(
    a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None, data_range: float = 1.0
) -> dict[str, torch.Tensor]:
    """Mean SSIM per sample over ``all`` valid pixels and ``in``/``out`` of ``mask``."""
    s = ssim_map(a, b, data_range)
    cropped = None if mask is None else crop_to_map(mask, (s.shape[-2], s.shape[-1]))
    return region_means(s, cropped)
