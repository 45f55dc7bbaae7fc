"""``faceedit-bench merge RUN_A RUN_B ... --out DIR``: runs of one protocol in one results file and table."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "merge",
        help="merge runs of the same protocol (e.g. an evaluate of your system and a compare) into one",
        description="Merge runs of one protocol (same name, version, pair count and per-key backends) "
        "into DIR: one results.json, samples.jsonl and tables/. Refuses runs that are not comparable.",
    )
    p.add_argument("runs", type=Path, nargs="+", metavar="RUN", help="run folders or results.json files")
    p.add_argument("--out", type=Path, required=True, help="folder for the merged run")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from faceedit_bench.jobs.merge import merge_runs

    out = merge_runs(args.runs, args.out)
    print(f"wrote {out}/results.json, samples.jsonl and tables/ from {len(args.runs)} runs")
    return 0
