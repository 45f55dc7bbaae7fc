"""Run folders: where each command writes by default, and never over another command's run.

``compare`` writes ``runs/<protocol>``; ``evaluate`` (one editor or one external system)
writes ``runs/evaluate-<protocol>-<editor>``. A folder whose ``results.json`` was written
by another command is refused (it would leave that run's tables and figures beside new
numbers); the same command may re-run into its own folder (resume, refresh).
"""

from __future__ import annotations

import json
from pathlib import Path

from faceedit_bench.config import ConfigError

COMMANDS = ("compare", "evaluate", "api", "merge")


def default_run_dir(protocol: str, command: str, editor: str | None = None) -> Path:
    """``runs/<protocol>`` for compare, ``runs/evaluate-<protocol>-<editor>`` otherwise."""
    if command == "compare" or editor is None:
        return Path("runs") / protocol
    return Path("runs") / f"evaluate-{protocol}-{editor}"


def run_command_of(folder: Path) -> str | None:
    """The command that wrote ``folder/results.json`` (None: no results, or unrecorded)."""
    path = Path(folder) / "results.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    command = data.get("config", {}).get("command") if isinstance(data, dict) else None
    return str(command) if command else None


def claim_run_dir(folder: Path, command: str, editors: list[str]) -> None:
    """Refuse ``folder`` when it holds a run of another command or of other editors (evaluate)."""
    if command not in COMMANDS:
        raise ValueError(f"unknown run command {command!r}; known: {', '.join(COMMANDS)}")
    path = Path(folder) / "results.json"
    previous = run_command_of(folder)
    if previous is None or (previous == command and command != "evaluate"):
        return
    if previous != command:
        raise ConfigError(
            f"{folder}: holds a `{previous}` run ({path}); a `{command}` run would mix with its tables "
            "and figures. Choose another --out (or delete that folder)"
        )
    data = json.loads(path.read_text(encoding="utf-8"))
    before = sorted(data.get("editors", {}))
    if before != sorted(editors):
        raise ConfigError(
            f"{folder}: holds an evaluation of {', '.join(before)}, not {', '.join(sorted(editors))}; "
            "choose another --out"
        )
