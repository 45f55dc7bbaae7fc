"""Robust image reading to RGB float ``(3, H, W)`` in ``[0, 1]``, and tensor <-> uint8 helpers.

The EXIF orientation tag is applied (phone photos). Every input mode Pillow decodes
is converted explicitly: 1-bit, grayscale ``L``,
palette ``P`` (through its RGBA expansion), ``LA``/``RGBA`` (alpha composited on a
white background, the convention of most face datasets' web-scraped PNGs), CMYK,
and 16/32-bit grayscale ``I;16``/``I`` (scaled by the bit depth's maximum, not
clipped). Corrupt or truncated files raise :class:`ImageReadError` naming the file.

Huge images: anything above :data:`MAX_PIXELS` (50 megapixels) is refused unless
``downscale_huge=True`` (from the command line: ``--downscale-huge`` on ``score`` and
``annotate``, or the environment variable ``FACEEDIT_BENCH_DOWNSCALE_HUGE=1`` for every
command), in which case it is reduced (Pillow ``draft`` + area
resize) so that it has at most :data:`MAX_PIXELS` pixels, keeping its aspect.
Pillow's own decompression-bomb guard stays on for anything beyond 4x that.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 50_000_000
DOWNSCALE_ENV = "FACEEDIT_BENCH_DOWNSCALE_HUGE"  # 1: every command reads huge images downscaled
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif")


class ImageReadError(ValueError):
    """An image file could not be read; the message names the file and why."""


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def read_image(path: str | Path, *, downscale_huge: bool | None = None) -> torch.Tensor:
    """Read ``path`` as float32 RGB ``(3, H, W)`` in ``[0, 1]`` (see module docstring).

    ``downscale_huge`` None: as :data:`DOWNSCALE_ENV` says (off unless it is ``1``).
    """
    path = Path(path)
    if downscale_huge is None:
        downscale_huge = os.environ.get(DOWNSCALE_ENV, "").strip().lower() in ("1", "true", "yes", "on")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such image file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                im = _limit_size(im, path, downscale_huge)
                im.load()
                im = ImageOps.exif_transpose(im)  # phone photos: apply the EXIF orientation
                return torch.from_numpy(_to_rgb_float(im, path)).permute(2, 0, 1).contiguous()
    except UnidentifiedImageError:
        raise ImageReadError(f"{path}: not a readable image (unknown or corrupt format)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise ImageReadError(f"{path}: image too large to decode safely ({err})") from None
    except (OSError, SyntaxError) as err:  # Pillow reports truncated data as OSError
        raise ImageReadError(f"{path}: corrupt or truncated image ({err})") from None


def _limit_size(im: Image.Image, path: Path, downscale_huge: bool) -> Image.Image:
    w, h = im.size
    if w * h <= MAX_PIXELS:
        return im
    mp = w * h / 1e6
    if not downscale_huge:
        raise ImageReadError(
            f"{path}: {w}x{h} ({mp:.0f} MP) exceeds the {MAX_PIXELS // 1_000_000} MP limit; "
            f"downscale it first, or let faceedit-bench do it: --downscale-huge (score, annotate) or "
            f"{DOWNSCALE_ENV}=1 for any command (Python: read_image(..., downscale_huge=True))"
        )
    scale = math.sqrt(MAX_PIXELS / (w * h))
    size = (max(1, int(w * scale)), max(1, int(h * scale)))
    im.draft("RGB", size)  # JPEG: decode at a reduced scale directly
    return im.resize(size, Image.Resampling.BOX) if im.size != size else im


def _to_rgb_float(im: Image.Image, path: Path) -> np.ndarray:
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        arr = np.asarray(im, dtype=np.float32) / 65535.0
        return np.repeat(arr[..., None], 3, axis=2)
    if mode in ("I", "F"):
        arr = np.asarray(im, dtype=np.float64)
        top = 65535.0 if arr.max(initial=0) > 255 else 255.0
        arr = np.clip(arr / top, 0, 1).astype(np.float32)
        return np.repeat(arr[..., None], 3, axis=2)
    if mode == "P":
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA", "PA"):
        rgba = np.asarray(im.convert("RGBA"), dtype=np.float32) / 255.0
        alpha = rgba[..., 3:4]
        return rgba[..., :3] * alpha + (1.0 - alpha)  # composite on white
    if im.mode not in ("RGB", "L", "1", "CMYK", "YCbCr", "LAB", "HSV", "RGBX"):
        raise ImageReadError(f"{path}: unsupported image mode {im.mode!r}")
    return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0


def to_uint8_hwc(image: torch.Tensor) -> np.ndarray:
    """``(3, H, W)`` float in ``[0, 1]`` -> contiguous ``(H, W, 3)`` uint8 RGB."""
    if image.ndim != 3 or image.shape[0] != 3:
        raise ValueError(f"expected a (3, H, W) image, got shape {tuple(image.shape)}")
    arr = (image.detach().float().clamp(0, 1) * 255.0 + 0.5).to(torch.uint8)
    return np.ascontiguousarray(arr.permute(1, 2, 0).cpu().numpy())


def from_uint8_hwc(arr: np.ndarray) -> torch.Tensor:
    """``(H, W, 3)`` uint8 RGB -> ``(3, H, W)`` float32 in ``[0, 1]``."""
    return torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1).float().div(255.0)


def upscale_short_side(images: torch.Tensor, min_side: int) -> torch.Tensor:
    """``(N, 3, H, W)`` bilinearly upscaled so the short side is ``min_side`` (unchanged if already)."""
    h, w = images.shape[-2:]
    if min(h, w) >= min_side:
        return images
    scale = min_side / min(h, w)
    size = (round(h * scale), round(w * scale))
    return torch.nn.functional.interpolate(images, size=size, mode="bilinear", align_corners=False).clamp(
        0, 1
    )


def at_resolution(images: torch.Tensor, resolution: int) -> torch.Tensor:
    """``(N, 3, H, W)`` resized (bilinear, antialiased) to ``resolution`` square, kept in ``[0, 1]``."""
    if images.shape[-2:] == (resolution, resolution):
        return images
    size = (resolution, resolution)
    return torch.nn.functional.interpolate(
        images, size=size, mode="bilinear", antialias=True, align_corners=False
    ).clamp(0, 1)


def check_batch(images: torch.Tensor, who: str) -> None:
    """Raise a clear error unless ``images`` is float ``(N, 3, H, W)``."""
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"{who}: expected images of shape (N, 3, H, W), got {tuple(images.shape)}")
    if not images.is_floating_point():
        raise ValueError(f"{who}: expected float images in [0, 1], got dtype {images.dtype}")
