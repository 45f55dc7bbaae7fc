"""Annotate a folder of face images with AU intensities and write an OpenFace-style (or py-feat Fex) CSV.

Each image is read, face-cropped at :data:`ANNOTATE_RESOLUTION` by the crop rule the
loaders use (or taken whole with ``crop=False``) and passed to a registered AU
detector; the result is written with :func:`faceedit_bench.data.aus_io.write_au_csv`
(``name,AU01_r,...,AU45_r``, 0-5) or, with ``fmt="fex"``, as py-feat's Fex columns
(:func:`faceedit_bench.data.fex_io.write_fex_csv`, ``input,AU01,...``, 0-1); the
``ImageFolderDataset(DIR, aus=...)`` loader reads both back. Unreadable images and
images without a face are counted, not fatal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from faceedit_bench.data.frames import VIDEO_SUFFIXES
from faceedit_bench.data.images import ImageReadError, is_image_file, read_image

ANNOTATE_RESOLUTION = 256  # crop size the detector sees (ours; the detector rescales itself)
AUTO_ORDER = ("pyfeat-xgb", "mediapipe")


@dataclass
class AnnotateSummary:
    """What :func:`annotate_folder` did."""

    written: int
    no_face: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    multi_face: list[str] = field(default_factory=list)  # images with several faces: the largest is used
    detector: str = ""
    out_csv: Path | None = None

    def line(self) -> str:
        return (
            f"{self.written} annotated by {self.detector} -> {self.out_csv}; "
            f"{len(self.no_face)} without a face, {len(self.unreadable)} unreadable"
            + (
                f", {len(self.multi_face)} with several faces (the largest annotated)"
                if self.multi_face
                else ""
            )
        )

    def why_none(self, n_images: int) -> str:
        """Why none of ``n_images`` was annotated: unreadable files and faceless images, each counted."""
        parts = []
        if self.unreadable:
            parts.append(
                f"{len(self.unreadable)} of {n_images} images unreadable (e.g. {self.unreadable[0]})"
            )
        if self.no_face:
            parts.append(f"{len(self.no_face)} of {n_images} without a face (e.g. {self.no_face[0]})")
        return "; ".join(parts) or f"none of {n_images} images gave AUs"

    def notes(self, limit: int = 10) -> list[str]:
        """One line per image skipped or with several faces (at most ``limit`` of each kind, then a count)."""
        out = []
        for label, items in (("unreadable", self.unreadable), ("no face", self.no_face),
                             ("several faces", self.multi_face)):  # fmt: skip
            out += [f"  {label}: {m}" for m in items[:limit]]
            if len(items) > limit:
                out.append(f"  {label}: ... and {len(items) - limit} more")
        return out


def resolve_detector(name: str) -> str:
    """A registered AU detector name; ``auto`` = first available of pyfeat-xgb, mediapipe."""
    from faceedit_bench.plugins import au_detectors

    if name != "auto":
        au_detectors.canonical(name)
        return name
    reasons = []
    for candidate in AUTO_ORDER:
        avail = au_detectors.get(candidate).availability()
        if avail.usable:
            return candidate
        reasons.append(f"{candidate}: {avail.reason}")
    raise FileNotFoundError("no AU detector is available: " + "; ".join(reasons))


def annotate_folder(
    folder: Path, detector: str, out_csv: Path, crop: bool = True, fmt: str = "openface"
) -> AnnotateSummary:
    """Detect AUs on every image of ``folder`` (``folder/imgs`` if present) and write ``out_csv``.

    ``fmt``: ``openface`` (``name,AU01_r,...``, 0-5) or ``fex`` (py-feat's ``input,AU01,...``, 0-1).
    """
    from faceedit_bench.data.fex_io import FORMATS, write_aus

    if fmt not in FORMATS:
        raise ValueError(f"unknown AU file format {fmt!r}; known: {', '.join(FORMATS)}")
    from faceedit_bench.plugins import au_detectors

    folder = Path(folder)
    if folder.is_file():
        raise ValueError(
            f"{folder}: is a file, not a folder of face images (or a video: "
            f"{', '.join(VIDEO_SUFFIXES)}); give the folder it is in"
        )
    if not folder.is_dir():
        what = "video file" if folder.suffix.lower() in VIDEO_SUFFIXES else "folder"
        raise FileNotFoundError(f"{folder}: no such {what}")
    image_dir = folder / "imgs" if (folder / "imgs").is_dir() else folder
    paths = sorted(p for p in image_dir.iterdir() if is_image_file(p))
    if not paths:
        raise ValueError(f"{image_dir}: empty folder (no .jpg/.png/... images)")
    name = resolve_detector(detector)
    model = au_detectors.get(name)()
    cropper = None
    if crop:
        from faceedit_bench.data.faces import FaceCropper

        cropper = FaceCropper()
    summary = AnnotateSummary(written=0, detector=name, out_csv=Path(out_csv))
    names, rows = [], []
    for path in paths:
        if cropper is not None:
            res = cropper.crop_file(path, ANNOTATE_RESOLUTION)
            if res.image is None:
                (summary.no_face if res.reason == "no_face" else summary.unreadable).append(res.message)
                continue
            image, faces = res.image, res.faces
        else:
            try:
                image = read_image(path)
            except ImageReadError as err:
                summary.unreadable.append(str(err))
                continue
        aus = model.detect(image[None])[0]
        if not crop:
            faces = max(getattr(model, "faces_found", None) or [1])
        if faces > 1:
            summary.multi_face.append(f"{path}: {faces} faces; annotated the largest")
        if torch.isnan(aus).all():
            summary.no_face.append(f"{path}: no face found by {name}")
            continue
        names.append(path.name)
        rows.append(aus)
    if not rows:
        raise ValueError(f"{image_dir}: nothing annotated, nothing written: {summary.why_none(len(paths))}")
    write_aus(out_csv, names, torch.stack(rows), fmt)
    summary.written = len(rows)
    return summary
