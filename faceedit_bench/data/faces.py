"""Find, align and cache face crops of image files (landmarks: offline MediaPipe FaceLandmarker).

One place turns an image file into the square face crop every loader and the
annotator use, by the rule of :mod:`faceedit_bench.data.crop`. Results are cached
on disk by (file SHA-256, crop rule, resolution, landmark backend), atomically.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from faceedit_bench.data.crop import CropCache, align_crop, crop_key
from faceedit_bench.data.images import ImageReadError, from_uint8_hwc, read_image, to_uint8_hwc
from faceedit_bench.io import sha256_file

LANDMARKS = "mediapipe-478-largest"  # landmark backend (largest of up to 8 faces) in crop cache keys


@dataclass
class CropResult:
    """A crop, or why there is none (``reason`` in {"no_face", "unreadable"})."""

    image: torch.Tensor | None
    points: np.ndarray | None
    file_hash: str
    reason: str = ""
    message: str = ""
    faces: int = 1  # faces found in the file; the crop is of the largest


class FaceCropper:
    """Aligned square face crops of files or tensors, cached on disk."""

    def __init__(self, cache: CropCache | None = None) -> None:
        from faceedit_bench.backends.au_mediapipe import MediaPipeAUDetector

        self._mp = MediaPipeAUDetector()
        self.cache = cache if cache is not None else CropCache()

    def points(self, image: torch.Tensor) -> np.ndarray | None:
        """Five alignment points ``(5, 2)`` of the face in ``(3, H, W)``, or None."""
        from faceedit_bench.backends.au_mediapipe import five_points

        mesh = self._mp.landmarks(image[None])[0]
        if not torch.isfinite(mesh).all():
            return None
        return five_points(mesh.numpy())

    def crop_tensor(self, image: torch.Tensor, resolution: int) -> tuple[torch.Tensor, np.ndarray] | None:
        """Crop one ``(3, H, W)`` image (no caching); None when no face is found."""
        pts = self.points(image)
        if pts is None:
            return None
        return align_crop(image, pts, resolution), pts

    def load_cached(self, file_hash: str, resolution: int) -> torch.Tensor | None:
        """The cached crop of a file with content hash ``file_hash``, if present (no file read)."""
        hit = self.cache.load(crop_key(file_hash, resolution, LANDMARKS))
        if hit is None or hit.get("reason") or "image" not in hit:
            return None
        return from_uint8_hwc(hit["image"].numpy())

    def crop_file(self, path: Path, resolution: int) -> CropResult:
        """Cached crop of an image file; unreadable files and faceless images are reported, not raised."""
        file_hash = sha256_file(path)
        key = crop_key(file_hash, resolution, LANDMARKS)
        hit = self.cache.load(key)
        if hit is not None:
            if hit.get("reason"):
                return CropResult(None, None, file_hash, str(hit["reason"]), f"{path}: no face found")
            faces = int(hit["faces"]) if "faces" in hit else 1
            return CropResult(
                from_uint8_hwc(hit["image"].numpy()), hit["points"].numpy(), file_hash, faces=faces
            )
        try:
            image = read_image(path)
        except ImageReadError as err:
            return CropResult(None, None, file_hash, "unreadable", str(err))
        found = self.crop_tensor(image, resolution)
        if found is None:
            self.cache.save(key, {"reason": "no_face"})
            return CropResult(None, None, file_hash, "no_face", f"{path}: no face found")
        crop, pts = found
        faces = max(self._mp.faces_found or [1])
        record = {
            "image": torch.from_numpy(to_uint8_hwc(crop)),
            "points": torch.from_numpy(pts),
            "faces": torch.tensor(faces),
        }
        self.cache.save(key, record)
        return CropResult(from_uint8_hwc(record["image"].numpy()), pts, file_hash, faces=faces)
