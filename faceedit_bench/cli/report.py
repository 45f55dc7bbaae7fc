"""``faceedit-bench report``: CI regression report of CURRENT results against a baseline.

Prints a short verdict (what regressed, what is missing; under 20 lines on PASS) and
writes the full Markdown report to ``--out`` (default: ``regression.md`` beside CURRENT).
A regression is a change beyond the baseline's 95% interval on that side and beyond the
metric's fixed tolerance (the fixed tolerance alone without an interval; see
:data:`faceedit_bench.reports.regression.RULE`).
Exit status: 0 no regression and nothing missing, 1 a regression or an
editor, metric or backend of the baseline missing from CURRENT (unless
``--allow-missing``), 2 when the files cannot be compared (different protocol, or one
key from different backends).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from faceedit_bench.config import add_config_arguments, build_config, option


@dataclasses.dataclass
class ReportConfig:
    """Options of ``faceedit-bench report``."""

    current: Path = dataclasses.field(
        metadata={"help": "current results.json (or its run directory)", "cli": False}
    )
    baseline: Path = option(
        help="baseline results JSON kept under version control (e.g. reports/ci/baseline.json)"
    )
    tolerances: Path | None = option(
        None,
        help="YAML of per-metric fixed tolerances, the floor under the intervals (default: the packaged tolerances.yaml)",
    )
    out: Path | None = option(
        None, help="write the full Markdown report here (default: regression.md beside CURRENT)"
    )
    allow_missing: bool = option(
        False, help="an editor, metric or backend of BASELINE absent from CURRENT is listed, not a failure"
    )
    update_baseline: bool = option(
        False,
        help="after reporting, copy CURRENT over BASELINE (accept the new numbers); refused when the "
        "report fails, unless --force",
    )
    force: bool = option(False, help="with --update-baseline: accept CURRENT even when the report fails")

    def validate(self) -> None:
        if not self.update_baseline and not self.baseline.exists():
            raise FileNotFoundError(
                f"{self.baseline}: no baseline file; create it from a run with "
                f"`faceedit-bench report --baseline {self.baseline} --update-baseline CURRENT`"
            )


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="regression report of a results file against a baseline (exit 1 on a regression)",
        description="Regression gate of CURRENT against BASELINE, per editor and metric: a short verdict on stdout, the full Markdown report in --out. A regression is a change beyond both the baseline's 95% interval on that side and the metric's fixed tolerance (the tolerance alone for a metric without an interval). Exit status: 0 pass, 1 a regression or something of the baseline missing (editor, metric, backend; see --allow-missing), 2 when the files cannot be compared (different protocol, or one key from different backends).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("current", type=Path, metavar="CURRENT", help="current results.json or run directory")
    add_config_arguments(parser, ReportConfig)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from faceedit_bench.io import write_text_atomic
    from faceedit_bench.reports.comparable import IncomparableResults
    from faceedit_bench.reports.regression import regression_report, update_baseline
    from faceedit_bench.reports.results import results_path

    config = build_config(ReportConfig, args, current=args.current)
    if config.update_baseline and not config.baseline.exists():
        update_baseline(config.current, config.baseline)
        print(f"no baseline yet: wrote {config.baseline} from {config.current}")
        return 0
    try:
        report = regression_report(config.baseline, config.current, config.tolerances, config.allow_missing)
    except IncomparableResults as err:
        if not (config.update_baseline and config.force):
            hint = (
                " (--update-baseline --force replaces the baseline with this run)"
                if config.update_baseline
                else ""
            )
            print(f"faceedit-bench report: refusing to compare: {err}{hint}", file=sys.stderr)
            return 2
        print(f"not comparable ({err}); replacing the baseline as forced")
        update_baseline(config.current, config.baseline)
        print(f"baseline updated: {config.baseline}")
        return 0
    out = config.out or results_path(config.current).parent / "regression.md"
    write_text_atomic(out, report.to_markdown())
    print(report.short(out), end="")
    if config.update_baseline:
        if report.exit_code and not config.force:
            print(
                f"faceedit-bench report: not updating {config.baseline}: the report fails "
                "(pass --force to accept these numbers anyway)",
                file=sys.stderr,
            )
            return report.exit_code
        update_baseline(config.current, config.baseline)
        print(f"baseline updated: {config.baseline} (from {config.current})")
        return 0
    return report.exit_code
