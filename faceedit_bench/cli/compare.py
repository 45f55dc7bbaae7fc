"""``faceedit-bench compare``: several editors on one protocol; results, tables and figures."""

from __future__ import annotations

import argparse

from faceedit_bench.config import add_config_arguments, build_config

EPILOG = """\
writes OUT/results.json (metrics with 95% bootstrap CIs, every value named by its
backend), OUT/samples.jsonl (per pair), OUT/tables/ (CSV, Markdown, LaTeX),
OUT/figures/ (PNG + PDF) and OUT/artifacts/. A killed run resumes when re-run with
the same options. Multi-GPU / multi-process: torchrun --nproc_per_node N -m
faceedit_bench.cli.main compare ...
examples:
  faceedit-bench compare                                  # aurig-demo, all editors
  faceedit-bench compare --protocol aurig-smoke --out /tmp/smoke
  faceedit-bench compare --editors identity two-stage --checkpoint two-stage=run/checkpoint.pt
  faceedit-bench compare --protocol aurig-demo --editors identity two-stage ganimation \\
      --external mine=exports/aurig-demo/pairs.csv        # another system's edits (see export)
  faceedit-bench compare --dataset image-folder --dataset-args root=FACES_DIR name=my-faces
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from faceedit_bench.harness.inputs.config import CompareConfig

    parser = subparsers.add_parser(
        "compare",
        help="compare editors on a protocol (the main job)",
        description="Compare several editors on one protocol and write results, tables and figures.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config_arguments(parser, CompareConfig)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from faceedit_bench.harness.inputs.config import CompareConfig
    from faceedit_bench.jobs.compare import run_compare

    config = build_config(CompareConfig, args)
    return exit_status(run_compare(config))


def exit_status(out) -> int:
    """1 when a requested system failed on every sample (its results are written), else 0."""
    import sys

    from faceedit_bench.harness.outputs.results import load_results
    from faceedit_bench.public_api import every_sample_failed

    if out is None:  # not rank 0
        return 0
    editors = load_results(out / "results.json")["editors"]
    lost = [n for n, e in editors.items() if e.get("status") == "failed" or every_sample_failed(e)]
    for name in lost:
        print(f"error: {name!r} failed on every sample; its results are scored worst", file=sys.stderr)
    return 1 if lost else 0
