"""Face cropping and alignment from five landmarks: one rule for training and evaluation.

Rule ``eyes-mouth-v1`` follows the oriented-square construction of the FFHQ
alignment script (Karras et al., "A Style-Based Generator Architecture for GANs",
2019, ``align_face``): with ``e`` the mid-point of the eyes, ``ee`` the vector from
the subject's right eye to the left eye and ``em`` the vector from ``e`` to the
mid-point of the mouth corners,

    x = ee - rot90(em),  x /= |x|,  x *= max(1.5 |ee|, 1.35 |em|)
    y = rot90(x),        c = e + 0.3 em
    quad = (c - x - y, c - x + y, c + x + y, c + x - y)

FFHQ uses factors (2.0, 1.8) and ``c = e + 0.1 em``, which keeps hair and
background; ours (1.5, 1.35, 0.3) crop forehead to chin, like GANimation's tight
128 px crops. The quad is resampled to ``4 * resolution`` (bilinear, replicated
border) and then area-averaged to ``resolution`` so large downscales do not alias.

Crops are cached on disk under a key of (file SHA-256, rule, resolution, landmark
backend), written atomically.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch

from faceedit_bench.cache_file import load_checked, save_checked
from faceedit_bench.paths import cache_dir

CROP_RULE = "eyes-mouth-v1"
SUPERSAMPLE = 4


def crop_quad(points: np.ndarray) -> np.ndarray:
    """``(5, 2)`` points (right eye, left eye, nose, mouth right, mouth left) -> ``(4, 2)`` quad."""
    pts = np.asarray(points, dtype=np.float64)
    if pts.shape != (5, 2) or not np.isfinite(pts).all():
        raise ValueError(f"expected five finite (x, y) landmarks, got shape {pts.shape}")
    eye_r, eye_l, _, mouth_r, mouth_l = pts
    eye_mid = (eye_r + eye_l) / 2
    ee = eye_l - eye_r
    em = (mouth_r + mouth_l) / 2 - eye_mid
    x = ee - np.array([-em[1], em[0]])
    norm = np.hypot(*x)
    if norm < 1e-6:
        raise ValueError("degenerate landmarks: eyes and mouth coincide")
    x = x / norm * max(1.5 * np.hypot(*ee), 1.35 * np.hypot(*em))
    y = np.array([-x[1], x[0]])
    c = eye_mid + 0.3 * em
    return np.stack([c - x - y, c - x + y, c + x + y, c + x - y])


def align_crop(image: torch.Tensor, points: np.ndarray, resolution: int) -> torch.Tensor:
    """Crop ``(3, H, W)`` in ``[0, 1]`` to a ``(3, res, res)`` face by rule ``eyes-mouth-v1``."""
    import cv2

    quad = crop_quad(points)
    big = resolution * SUPERSAMPLE
    # quad corners: top-left, bottom-left, bottom-right (top-right follows)
    src = quad[:3].astype(np.float32)
    dst = np.array([[0, 0], [0, big], [big, big]], dtype=np.float32)
    matrix = cv2.getAffineTransform(src, dst)
    arr = image.detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()
    warped = cv2.warpAffine(arr, matrix, (big, big), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    small = cv2.resize(warped, (resolution, resolution), interpolation=cv2.INTER_AREA)
    return torch.from_numpy(np.ascontiguousarray(small)).permute(2, 0, 1).clamp(0, 1).float()


def similarity_matrix(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity transform ``(2, 3)`` taking ``src`` points to ``dst`` (Umeyama 1991)."""
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s0, d0 = src - mu_s, dst - mu_d
    cov = d0.T @ s0 / len(src)
    u, sig, vt = np.linalg.svd(cov)
    sign = np.diag([1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])
    rot = u @ sign @ vt
    scale = np.trace(np.diag(sig) @ sign) / s0.var(0).sum()
    t = mu_d - scale * rot @ mu_s
    return np.hstack([scale * rot, t[:, None]])


def crop_key(file_hash: str, resolution: int, landmarks: str) -> str:
    """Cache key of one crop: file content, crop rule, resolution, landmark backend."""
    raw = f"{file_hash}|{CROP_RULE}|{resolution}|{landmarks}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


class CropCache:
    """On-disk cache of face crops (uint8 tensors + the 5 points used), checksummed, atomic writes."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else cache_dir("crops")

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.pt"

    def load(self, key: str) -> dict[str, object] | None:
        """The crop cached under ``key``, or None (with a warning for a bad file, then rebuilt)."""
        record, why = load_checked(self.path(key), key)
        if record is not None and _crop_ok(record):
            return dict(record)
        if why != "missing":
            print(
                f"warning: rebuilding face-crop cache entry: {why or f'{self.path(key)}: not a valid crop'}"
            )
        return None

    def save(self, key: str, record: dict[str, torch.Tensor | str]) -> None:
        save_checked(self.path(key), key, record)


def _crop_ok(record: dict[str, torch.Tensor | str]) -> bool:
    """A faceless-image note, or a uint8 HWC crop with its points."""
    if isinstance(record.get("reason"), str):
        return True
    image, points = record.get("image"), record.get("points")
    return (
        isinstance(image, torch.Tensor)
        and image.dtype == torch.uint8
        and image.dim() == 3
        and isinstance(points, torch.Tensor)
        and bool(torch.isfinite(points.double()).all())
    )
