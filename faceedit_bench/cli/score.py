"""``faceedit-bench score DIR_A DIR_B --metrics fid,kid,lpips,psnr,ssim``: metrics between two folders."""

from __future__ import annotations

import argparse
from pathlib import Path

EPILOG = """\
fid, kid: every image of DIR_A against every image of DIR_B (the harness's Inception
features: torch-fidelity's inception-v3-compat). lpips, psnr, ssim: files paired by name
stem, mean and 95% bootstrap interval. Images are centre-cropped to square and resized
to --resolution (default: the first image of DIR_A's size).
examples:
  faceedit-bench score runs/real runs/fake --metrics fid,kid
  faceedit-bench score edits/ truth/ --metrics psnr,ssim,lpips --out score.json
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "score",
        help="FID/KID/LPIPS/PSNR/SSIM between two folders of images",
        description="Score folder DIR_A against folder DIR_B with the harness's judges.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("folder_a", type=Path, metavar="DIR_A", help="images (e.g. edits)")
    p.add_argument("folder_b", type=Path, metavar="DIR_B", help="images (e.g. real or ground truth)")
    p.add_argument(
        "--metrics", default="fid,kid", help="comma-separated: fid,kid,lpips,psnr,ssim (default: fid,kid)"
    )
    p.add_argument("--resolution", type=int, default=None, help="square size images are fitted to")
    p.add_argument("--batch-size", type=int, default=32, help="images per forward pass (default: 32)")
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto")
    p.add_argument("--fid-features", default=None, help="force a feature extractor for FID/KID")
    p.add_argument("--lpips", default=None, help="force an LPIPS backend")
    p.add_argument("--out", type=Path, default=None, help="also write the values as JSON to this file")
    p.add_argument(
        "--downscale-huge",
        action="store_true",
        help="read images over 50 megapixels reduced to 50 MP instead of refusing them",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import os

    from faceedit_bench.data.images import DOWNSCALE_ENV
    from faceedit_bench.harness.inputs.pairs import resolve_device
    from faceedit_bench.io import write_json_atomic
    from faceedit_bench.jobs.score import score_folders

    if args.downscale_huge:
        os.environ[DOWNSCALE_ENV] = "1"
    result = score_folders(
        args.folder_a,
        args.folder_b,
        args.metrics.split(","),
        resolution=args.resolution,
        batch_size=args.batch_size,
        device=resolve_device(args.device),
        fid_features=args.fid_features,
        lpips=args.lpips,
    )
    print(
        f"{args.folder_a} ({result.n_images[0]}) vs {args.folder_b} ({result.n_images[1]}), {result.resolution} px"
    )
    for line in result.lines():
        print(line)
    if args.out is not None:
        write_json_atomic(args.out, result.to_json())
        print(f"wrote {args.out}")
    return 0
