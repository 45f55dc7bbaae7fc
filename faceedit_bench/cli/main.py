"""``faceedit-bench`` entry point: dispatches to one module per subcommand.

Each subcommand module defines ``add_parser(subparsers)`` and ``run(args) -> int``
and imports heavy libraries only inside ``run``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

from faceedit_bench import __version__
from faceedit_bench.config import ConfigError
from faceedit_bench.registry import RegistryError

SUBCOMMANDS = (
    "compare",
    "evaluate",
    "export",
    "score",
    "merge",
    "train",
    "ls",
    "annotate",
    "figures",
    "html",
    "report",
    "audit",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="faceedit-bench",
        description="Train, compare and report AU-conditioned facial-expression editors.",
    )
    parser.add_argument("--version", action="version", version=f"faceedit-bench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        if importlib.util.find_spec(f"faceedit_bench.cli.{name}") is None:
            continue  # a subcommand module not installed in this build
        module = importlib.import_module(f"faceedit_bench.cli.{name}")
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except (ConfigError, RegistryError, FileNotFoundError, ValueError) as err:
        print(f"faceedit-bench {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # what was saved (and where) is printed by the command itself, only when something was
        print(f"faceedit-bench {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
