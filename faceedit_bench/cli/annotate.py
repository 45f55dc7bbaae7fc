"""``faceedit-bench annotate DIR|VIDEO --detector NAME --out aus.csv``: AU labels for a folder of faces."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "annotate",
        help="detect AUs on a folder of face images and write an OpenFace-style CSV",
        description="Detect AU intensities (0-5) on every image of DIR (or DIR/imgs) and write "
        "name,AU01_r,...,AU45_r rows, readable by the image-folder dataset. Given a VIDEO, every "
        "--stride-th frame is first written as a PNG into --frames-dir, which is then annotated; "
        "nothing is written beside the video.",
    )
    p.add_argument(
        "folder",
        type=Path,
        metavar="DIR|VIDEO",
        help="folder of face images (or with an imgs/ subfolder), or a video file",
    )
    p.add_argument(
        "--detector",
        default="auto",
        help="registered AU detector (see `faceedit-bench ls`); auto = first available of pyfeat-xgb, mediapipe",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output CSV (default: DIR/aus.csv; for a VIDEO: aus.csv in its frames folder)",
    )
    p.add_argument(
        "--format",
        dest="au_format",
        choices=("openface", "fex"),
        default="openface",
        help="openface: name,AU01_r,... on 0-5 (default); fex: py-feat's input,AU01,... on 0-1",
    )
    p.add_argument(
        "--no-crop", action="store_true", help="run the detector on whole images, not aligned face crops"
    )
    p.add_argument("--stride", type=int, default=5, help="VIDEO: keep every N-th frame (default: 5)")
    p.add_argument(
        "--frames-dir",
        type=Path,
        default=None,
        help="VIDEO: where frames go (default: <video stem>_frames/ beside --out, else a folder in the "
        "faceedit-bench cache)",
    )
    p.add_argument(
        "--downscale-huge",
        action="store_true",
        help="read images over 50 megapixels reduced to 50 MP instead of refusing them",
    )
    p.set_defaults(run=run)


def frames_folder(video: Path, frames_dir: Path | None, out: Path | None) -> Path:
    """Where a video's frames go: ``frames_dir``; else beside ``out``; else the cache, never beside
    the video (it may be read-only, or inside an installed package)."""
    import hashlib

    from faceedit_bench.paths import cache_dir

    if frames_dir is not None:
        return frames_dir
    if out is not None:
        return out.parent / f"{video.stem}_frames"
    st = video.stat()
    key = f"{video.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    return cache_dir("frames") / f"{video.stem}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def run(args: argparse.Namespace) -> int:
    import os

    from faceedit_bench.annotate import annotate_folder
    from faceedit_bench.data.frames import export_frames, is_video_file
    from faceedit_bench.data.images import DOWNSCALE_ENV

    if args.downscale_huge:
        os.environ[DOWNSCALE_ENV] = "1"
    folder = args.folder
    if is_video_file(folder):
        folder = frames_folder(args.folder, args.frames_dir, args.out)
        frames = export_frames(args.folder, folder, args.stride)
        print(f"{args.folder}: {len(frames)} frames (every {args.stride}th) in {folder}")
    out = args.out if args.out is not None else folder / "aus.csv"
    summary = annotate_folder(folder, args.detector, out, crop=not args.no_crop, fmt=args.au_format)
    print(summary.line())
    for line in summary.notes():
        print(line)
    return 0
