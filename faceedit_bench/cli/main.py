"""``faceedit-bench`` entry point: dispatches to one module per subcommand.

Each subcommand module defines ``add_parser(subparsers)`` and ``run(args) -> int``
and imports heavy libraries only inside ``run``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
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
    "tables",
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
        code = int(args.run(args) or 0)
        sys.stdout.flush()  # a closed pipe (``| head``) shows here, not at exit
        return code
    except BrokenPipeError:
        return _stdout_closed()
    except (ConfigError, RegistryError, ValueError) as err:
        print(f"faceedit-bench {args.command}: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # missing, disk full, read-only, not allowed: name the file, no traceback
        from faceedit_bench.io import describe_os_error

        print(f"faceedit-bench {args.command}: error: {describe_os_error(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # what was saved (and where) is printed by the command itself, only when something was
        print(f"faceedit-bench {args.command}: interrupted", file=sys.stderr)
        return 130


def _stdout_closed() -> int:
    """The reader of stdout went away (``faceedit-bench report ... | head``): stop quietly, like ``cat``."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the interpreter's last flush must not fail again
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return 141  # 128 + SIGPIPE, what a shell reports for a command stopped by a closed pipe


if __name__ == "__main__":
    sys.exit(main())
