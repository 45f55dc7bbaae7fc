"""Peak signal-to-noise ratio, whole image and inside/outside a mask.

PSNR = 10 log10(R^2 / MSE) with data range R (1 for images in [0, 1]); the masked
variants use the MSE over the masked pixels (all channels), as in torchmetrics'
``functional/image/psnr.py`` split into sufficient statistics and value.
"""

from __future__ import annotations

import torch

from faceedit_bench.metrics.functional.masked import region_means


def check_pair(a: torch.Tensor, b: torch.Tensor, what: str) -> None:
    """Both ``(N, C, H, W)`` with equal shapes, or a clear error."""
    if a.dim() != 4 or a.shape != b.shape:
        raise ValueError(
            f"{what}: expected two (N, C, H, W) tensors of one shape, got {tuple(a.shape)} and {tuple(b.shape)}"
        )


def squared_error_map(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-pixel squared error averaged over channels, ``(N, H, W)`` float64."""
    check_pair(a, b, "psnr")
    return (a.to(torch.float64) - b.to(torch.float64)).pow(2).mean(dim=1)


PSNR_CAP_DB = 100.0  # identical images score this, not inf: means and JSON stay finite (our convention)


def psnr_from_mse(mse: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """``10 log10(R^2 / mse)``, capped at :data:`PSNR_CAP_DB` (identical images); NaN stays NaN."""
    return (10.0 * torch.log10(data_range**2 / mse)).clamp(max=PSNR_CAP_DB)


def psnr_regions(
    a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None, data_range: float = 1.0
) -> dict[str, torch.Tensor]:
    """PSNR per sample over ``all`` pixels and ``in``/``out`` of ``mask`` (NaN if a region is empty)."""
    return {k: psnr_from_mse(v, data_range) for k, v in region_means(squared_error_map(a, b), mask).items()}
