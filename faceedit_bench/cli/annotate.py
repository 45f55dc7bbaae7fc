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
        "--stride-th frame is first written as a PNG into --frames-dir, which is then annotated.",
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
    p.add_argument("--out", type=Path, default=None, help="output CSV (default: DIR/aus.csv)")
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
        "--frames-dir", type=Path, default=None, help="VIDEO: where frames go (default: <video stem>_frames/)"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from faceedit_bench.annotate import annotate_folder
    from faceedit_bench.data.frames import export_frames, is_video_file

    folder = args.folder
    if is_video_file(folder):
        folder = args.frames_dir or folder.with_name(f"{folder.stem}_frames")
        frames = export_frames(args.folder, folder, args.stride)
        print(f"{args.folder}: {len(frames)} frames (every {args.stride}th) in {folder}")
    out = args.out if args.out is not None else folder / "aus.csv"
    summary = annotate_folder(folder, args.detector, out, crop=not args.no_crop, fmt=args.au_format)
    print(summary.line())
    for message in [*summary.no_face, *summary.unreadable][:10]:
        print(f"  skipped: {message}")
    return 0
