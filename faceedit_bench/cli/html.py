"""``faceedit-bench html RUN_DIR``: the self-contained ``report.html`` of a compare run."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from faceedit_bench.config import add_config_arguments, build_config, option


@dataclasses.dataclass
class HtmlConfig:
    """Options of ``faceedit-bench html``."""

    run_dir: Path = dataclasses.field(
        metadata={"help": "run directory written by compare --out", "cli": False}
    )
    out: Path | None = option(None, help="output file (default: RUN_DIR/report.html)")
    screenshot: Path | None = option(
        None, help="also open the page in headless Chromium, check it and save a full-page PNG here"
    )

    def validate(self) -> None:
        if not (self.run_dir / "results.json").is_file():
            raise FileNotFoundError(f"{self.run_dir}: no results.json (run `faceedit-bench compare` first)")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "html",
        help="self-contained HTML report of a compare run (tables, figures, per-sample browser)",
        description="Write one self-contained report.html (inline CSS, JS and images; no network) from the files of a compare run directory: protocol and provenance, sortable tables, every figure and a per-sample browser.",
    )
    parser.add_argument(
        "run_dir", type=Path, metavar="RUN_DIR", help="run directory written by compare --out"
    )
    add_config_arguments(parser, HtmlConfig)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from faceedit_bench.reports.html import write_report

    config = build_config(HtmlConfig, args, run_dir=args.run_dir)
    path = write_report(config.run_dir, config.out)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    if config.screenshot is None:
        return 0
    from faceedit_bench.reports.chromium import screenshot_report

    check = screenshot_report(path, config.screenshot)
    print(f"wrote {config.screenshot}")
    for problem in check.problems():
        print(f"problem: {problem}")
    return 1 if check.problems() else 0
