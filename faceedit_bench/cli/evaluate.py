"""``faceedit-bench evaluate``: one editor, a checkpoint, or another system's edits (manifest)."""

from __future__ import annotations

import argparse

from faceedit_bench.config import add_config_arguments, build_config

EPILOG = """\
examples:
  faceedit-bench evaluate --editor two-stage --protocol aurig-demo
  faceedit-bench evaluate --editor two-stage --checkpoint runs/train/checkpoint.pt --protocol aurig-smoke
  faceedit-bench evaluate --editor mine=my_package.my_module:my_editor --protocol aurig-smoke
  faceedit-bench evaluate --manifest exports/aurig-demo/pairs.csv --name mine --protocol aurig-demo
  faceedit-bench evaluate --manifest edits.csv --name mysystem --protocol video-reenact --au-scale 1
The pairs.csv of `faceedit-bench export` makes a run of that protocol (its pairs, crop,
ground truth and judges). A free-form manifest CSV has columns source, edited, AU01 ...
AU45 (0-5, or 0-1 with --au-scale 1; AU01_r also accepted; empty = not asked), optional
target (ground-truth image) and id; paths are relative to the CSV; its run is labelled
protocol 'manifest' and takes the metrics, judges and resolution of --protocol.
Default output: runs/evaluate-<protocol>-<editor or name> (never a compare's folder).
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from faceedit_bench.harness.inputs.config import EvaluateConfig

    parser = subparsers.add_parser(
        "evaluate",
        help="evaluate one editor, checkpoint, or folder of edits made by another system",
        description="Evaluate one editor on one protocol and write the same files as compare.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config_arguments(parser, EvaluateConfig)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from faceedit_bench.cli.compare import exit_status
    from faceedit_bench.harness.inputs.config import EvaluateConfig
    from faceedit_bench.jobs.compare import run_evaluate

    return exit_status(run_evaluate(build_config(EvaluateConfig, args)))
