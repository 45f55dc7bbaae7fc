"""``faceedit-bench figures RUN_DIR``: paper figures (PNG + PDF) from a compare run's files."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from faceedit_bench.config import add_config_arguments, build_config, option

FIGURE_NAMES = ("qualitative", "sweeps", "inside", "per_au", "fid_vs_au_error", "attribution", "training")


@dataclasses.dataclass
class FiguresConfig:
    """Options of ``faceedit-bench figures``."""

    run_dir: Path = dataclasses.field(
        metadata={"help": "run directory written by compare --out", "cli": False}
    )
    out: Path | None = option(None, help="output folder (default: RUN_DIR/figures)")
    only: list[str] | None = option(None, help=f"make only these figures ({', '.join(FIGURE_NAMES)})")

    def validate(self) -> None:
        if not self.run_dir.is_dir():
            raise FileNotFoundError(f"{self.run_dir}: not a run directory")
        unknown = [n for n in self.only or [] if n not in FIGURE_NAMES]
        if unknown:
            raise ValueError(
                f"--only: unknown figure(s) {', '.join(unknown)}; known: {', '.join(FIGURE_NAMES)}"
            )


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "figures",
        help="paper figures (PNG + PDF) from a compare run directory",
        description="Paper figures (PNG 200 dpi + PDF) built only from the files of a compare run directory; a figure whose inputs are absent is skipped with the reason.",
    )
    parser.add_argument(
        "run_dir", type=Path, metavar="RUN_DIR", help="run directory written by compare --out"
    )
    add_config_arguments(parser, FiguresConfig)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from faceedit_bench.reports.figures import make_figures

    config = build_config(FiguresConfig, args, run_dir=args.run_dir)
    paths = make_figures(config.run_dir, config.out, config.only)
    for path in paths:
        print(path)
    print(f"{len(paths)} figure file(s) written")
    return 0
