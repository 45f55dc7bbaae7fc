"""``faceedit-bench tables RUN``: rebuild the paper tables (CSV, Markdown, LaTeX) from a run's results files."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from faceedit_bench.config import add_config_arguments, build_config, option

# files a table rebuild writes (and may remove from RUN/tables when no longer written)
TABLE_STEMS = ("summary", "ablation", "per_au__", "comparisons", "seeds", "attribution")


@dataclasses.dataclass
class TablesConfig:
    """Options of ``faceedit-bench tables``."""

    run_dir: Path = dataclasses.field(
        metadata={
            "help": "run folder (or its results.json) written by compare, evaluate or merge",
            "cli": False,
        }
    )
    editors: list[str] | None = option(
        None, help="rows: these editors, in this order (a seeded editor by its name; default: all that ran)"
    )
    metrics: list[str] | None = option(
        None,
        help="columns: metric ids (psnr@exact) or bare keys (psnr: every backend), in this order; "
        "per-AU tables by their base key (au_mae) (default: the summary's metrics and every per-AU family)",
    )
    digits: int | None = option(
        None, help="decimals of every cell (default: two significant digits of the interval)"
    )
    out: Path | None = option(None, help="output folder (default: RUN/tables)")

    def validate(self) -> None:
        if not self.run_dir.exists():
            raise FileNotFoundError(f"{self.run_dir}: no such run folder or results file")
        if self.digits is not None and not 0 <= self.digits <= 8:
            raise ValueError(f"--digits must be 0..8, got {self.digits}")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "tables",
        help="rebuild the tables (CSV, Markdown, LaTeX) of a run for chosen editors, metrics, precision",
        description="Rebuild summary, ablation (when the run has two-stage variants), per-AU, comparisons "
        "and seeds tables from RUN's results.json only, as CSV, Markdown and LaTeX (captions say what is "
        "shown, what ± and bold mean and the pair count; labels tab:<protocol>:<table>, see "
        "docs/paper-tables.md). Rebuilding RUN/tables removes the tables it no longer writes.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN", help="run folder or results.json")
    add_config_arguments(parser, TablesConfig)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from faceedit_bench.reports.results import results_path
    from faceedit_bench.reports.tables import write_tables

    config = build_config(TablesConfig, args, run_dir=args.run_dir)
    own = results_path(config.run_dir).parent / "tables"
    out = config.out or own
    written = write_tables(config.run_dir, out, config.editors, config.metrics, config.digits)
    if out.resolve() == own.resolve():  # the run's own folder: no table of an earlier build stays behind
        keep = {p.resolve() for p in written}
        for path in sorted(out.glob("*")):
            stale = path.suffix in (".csv", ".md", ".tex") and path.name.startswith(TABLE_STEMS)
            if stale and path.is_file() and path.resolve() not in keep:
                path.unlink()
                print(f"removed {path} (not part of this build)")
    for path in written:
        print(path)
    print(f"{len(written)} table file(s) written to {out}")
    return 0
