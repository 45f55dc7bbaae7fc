"""``faceedit-bench export --protocol P --out DIR``: a protocol's edit requests for any other system."""

from __future__ import annotations

import argparse
from pathlib import Path

EPILOG = """\
writes DIR/sources/*.png (the sources exactly as every editor gets them), DIR/pairs.csv
(id, source, edited, identity, AU01 ... AU45 target intensities), DIR/protocol.json and
DIR/README.txt. Write your system's edits to the `edited` paths, then:
  faceedit-bench compare --protocol P --editors identity two-stage ganimation --external mine=DIR/pairs.csv
examples:
  faceedit-bench export --protocol aurig-demo --out exports/aurig-demo
  faceedit-bench export --protocol video-reenact --out exports/video --au-scale 1   # AUs as 0-1 (py-feat)
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from faceedit_bench.protocols import DEFAULT_PROTOCOL

    p = subparsers.add_parser(
        "export",
        help="export a protocol's source images and target AUs so another system can edit them",
        description="Export a protocol's edit requests (source images as the judges see them, target "
        "AUs) and a pairs.csv to fill in with another system's edits.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--protocol", default=DEFAULT_PROTOCOL, help=f"protocol name (default: {DEFAULT_PROTOCOL})"
    )
    p.add_argument("--out", type=Path, required=True, help="new (or empty) folder to write")
    p.add_argument("--n-pairs", type=int, default=None, help="only the first N pairs (default: all)")
    p.add_argument(
        "--au-scale",
        type=float,
        default=5.0,
        choices=(1.0, 5.0),
        help="write AUs as 0-5 (5, default) or 0-1 (1)",
    )
    p.add_argument("--overwrite", action="store_true", help="write into a non-empty --out")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from faceedit_bench import plugins
    from faceedit_bench.harness.export import export_protocol

    plugins.protocols.canonical(args.protocol)
    if args.n_pairs is not None and args.n_pairs < 1:
        raise ValueError(f"--n-pairs must be >= 1, got {args.n_pairs}")
    try:
        summary = export_protocol(
            args.protocol,
            args.out,
            n_pairs=args.n_pairs,
            au_scale=args.au_scale,
            overwrite=args.overwrite,
            progress=args.progress,
        )
    except FileExistsError as err:
        raise ValueError(str(err)) from None
    print(summary.line())
    return 0
