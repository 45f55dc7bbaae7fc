"""``faceedit-bench merge RUN_A RUN_B ... --out DIR``: runs of one protocol in one results file and table."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "merge",
        help="merge runs of the same protocol (e.g. an evaluate of your system and a compare) into one",
        description="Merge runs of one protocol into DIR: one results.json, samples.jsonl, tables/ and "
        "figures/, with the paired comparisons (and so bold) recomputed from the runs' per-sample values. "
        "Refuses (exit 2, naming the runs and what differs) runs on other pairs (same protocol name, "
        "another seed or pair set), runs judged by other backends, and one editor name for two systems. "
        "What of the figures' inputs cannot be merged is named in the merged run's notes.",
    )
    p.add_argument("runs", type=Path, nargs="+", metavar="RUN", help="run folders or results.json files")
    p.add_argument("--out", type=Path, required=True, help="folder for the merged run")
    p.add_argument("--no-figures", action="store_true", help="write results and tables only")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace another run's files in --out (its files are removed)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from faceedit_bench.jobs.merge import merge_runs

    out = merge_runs(args.runs, args.out, figures=not args.no_figures, overwrite=args.overwrite)
    what = "tables/" if args.no_figures else "tables/ and figures/"
    print(f"wrote {out}/results.json, samples.jsonl, {what} from {len(args.runs)} runs")
    return 0
