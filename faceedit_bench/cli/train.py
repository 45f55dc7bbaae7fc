"""``faceedit-bench train``: train one registered editor (a thin layer over ``training.train``).

Runs on one CPU/GPU, or data-parallel under ``torchrun --nproc-per-node N
-m faceedit_bench.cli.main train ...``.
"""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from faceedit_bench.config import add_config_arguments
    from faceedit_bench.training.config import TrainConfig

    parser = subparsers.add_parser(
        "train",
        help="train an editor (two-stage, its ablations, or the GANimation baseline)",
        description="Train a registered editor on a registered FaceDataset. Writes OUT/metrics.jsonl, "
        "OUT/checkpoint.pt (resumable with --resume), OUT/config.json and OUT/summary.json.",
    )
    add_config_arguments(parser, TrainConfig)
    parser.add_argument(
        "--export",
        type=str,
        default=None,
        metavar="PATH",
        help="also write the generator-only fp16 weights here",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    from faceedit_bench.config import build_config
    from faceedit_bench.training import TrainConfig, train
    from faceedit_bench.training.checkpoint import export_weights

    config = build_config(TrainConfig, args)
    out = train(config)
    if args.export and int(os.environ.get("RANK", "0")) == 0:
        export_weights(out / "checkpoint.pt", Path(args.export))
    print(f"run folder: {out}")
    return 0
