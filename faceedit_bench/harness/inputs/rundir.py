"""Run folders: where each command writes by default, and one run per folder.

``compare`` writes ``runs/<protocol>``; ``evaluate`` (one editor or one external system)
writes ``runs/evaluate-<protocol>-<editor>`` (names made safe: never outside ``runs/``).

A compare or evaluate records what it is in ``OUT/.run.json`` when it starts (command,
protocol, editors and the options that change what is measured: :func:`run_identity`)
and, when it finishes, every file it wrote. Another run into that folder is refused,
naming what differs, unless ``--overwrite`` removes the earlier run's files first. The
same run may re-run there: a killed run resumes from ``OUT/.partial``; a finished one is
refreshed, and files of the earlier run that the new one did not rewrite are removed.
Folders without a record (older versions, ``merge``) are judged by their ``results.json``.
While it runs, a run holds an exclusive lock on ``OUT/.lock``: a second run fails at once.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from faceedit_bench.config import ConfigError, config_to_json
from faceedit_bench.io import write_bytes_atomic, write_json_atomic

COMMANDS = ("compare", "evaluate", "api", "merge")
OVERWRITABLE = ("compare", "evaluate")  # commands with --overwrite
RECORD = ".run.json"
LOCK = ".lock"
PARTIAL = ".partial"
RECORD_SCHEMA = "faceedit-bench/run/v1"
# what a run writes, for folders whose record names no files (older versions, killed runs)
OUTPUT_NAMES = ("results.json", "samples.jsonl", "report.html", "tables", "figures", "artifacts")
# options that change how a run goes, not what it measures: a resume or refresh may change them
EXECUTION_OPTIONS = frozenset(
    {"out", "overwrite", "progress", "device", "batch_size", "judge_worker", "figures", "html",
     "judge_audit", "command", "wall_s"}
)  # fmt: skip


def default_run_dir(protocol: str, command: str, editor: str | None = None) -> Path:
    """``runs/<protocol>`` for compare, ``runs/evaluate-<protocol>-<editor>`` otherwise."""
    name = protocol if command == "compare" or editor is None else f"evaluate-{protocol}-{editor}"
    return Path("runs") / folder_name(name)


def folder_name(name: str) -> str:
    """``name`` as one folder name: other characters than ``A-Za-z0-9._-`` become ``_``, no leading dot."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).lstrip(".")
    if not safe:
        raise ConfigError(f"run name {name!r} cannot name a folder under runs/; give --out")
    return safe


def run_identity(
    command: str, editors: list[str], config: dict[str, Any], protocol: dict[str, Any]
) -> dict[str, Any]:
    """What makes two runs the same run: command, protocol, editors and the measuring options."""
    identity = {
        "command": command,
        "protocol": f"{protocol.get('name', '?')} v{protocol.get('version', '?')}",
        "editors": sorted(editors),
        "options": {k: v for k, v in config.items() if k not in EXECUTION_OPTIONS},
    }
    return json.loads(json.dumps(identity, default=str))


def previous_run(folder: Path) -> tuple[dict[str, Any], Path] | None:
    """The identity of the run in ``folder`` and the file it was read from (None: no run)."""
    record = Path(folder) / RECORD
    if record.is_file():
        data = _read_json(record)
        if isinstance(data, dict) and isinstance(data.get("identity"), dict):
            return data["identity"], record
        return {"command": "unknown", "unreadable": str(record)}, record
    results = Path(folder) / "results.json"
    data = _read_json(results) if results.is_file() else None
    config = data.get("config") if isinstance(data, dict) else None
    if not isinstance(config, dict) or not config.get("command"):
        return None  # no results, or results that do not say which command wrote them
    editors = list(data.get("editors") or {})
    return run_identity(str(config["command"]), editors, config, data.get("protocol") or {}), results


def run_command_of(folder: Path) -> str | None:
    """The command of the run in ``folder`` (None: none, or unrecorded)."""
    previous = previous_run(folder)
    return None if previous is None else str(previous[0].get("command"))


def differences(before: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What differs between two identities, as ``what earlier (this run: now)``; only what both record."""
    out = [f"its record {before['unreadable']} is unreadable"] if "unreadable" in before else []
    for key in ("command", "protocol", "editors"):
        if key in before and key in now and before[key] != now[key]:
            out.append(f"{key} {_show(before[key])} (this run: {_show(now[key])})")
    was, new = before.get("options", {}), now.get("options", {})
    for key in sorted(set(was) & set(new)):
        if was[key] != new[key]:
            out.append(f"--{key.replace('_', '-')} {_show(was[key])} (this run: {_show(new[key])})")
    return out


def claim_run_dir(
    folder: Path,
    command: str,
    editors: list[str],
    identity: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> list[str]:
    """Refuse ``folder`` when it holds another run; with ``overwrite``, say what differs instead.

    Without ``identity`` (``merge``) only the command, and for evaluate the editors, are
    compared. Returns the differences ([]: no run there, or the same run).
    """
    if command not in COMMANDS:
        raise ValueError(f"unknown run command {command!r}; known: {', '.join(COMMANDS)}")
    previous = previous_run(folder)
    if previous is None:
        return []
    before, source = previous
    if identity is None:
        identity = {"command": command, **({"editors": sorted(editors)} if command == "evaluate" else {})}
    found = differences(before, identity)
    if not found or overwrite:
        return found
    fix = ", or pass --overwrite to remove its files first" if command in OVERWRITABLE else ""
    raise ConfigError(
        f"{folder}: holds a `{before.get('command')}` run ({source}) that is not this `{command}` run: "
        f"{'; '.join(found)}. Its tables and figures would mix with this run's: choose another --out{fix}"
    )


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder/.lock`` (``fcntl.flock``); fail at once if another run holds it."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{folder}: is a file, not a folder; choose another --out")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as err:
        raise ConfigError(
            f"{folder}: cannot write there ({err.strerror or err}: {err.filename or folder}); choose another --out"
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise ConfigError(
                f"{folder}: another run (pid {holder}) is writing to this folder ({folder / LOCK}); "
                "wait for it to finish or choose another --out"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the lock


@contextlib.contextmanager
def run_folder(folder: Path, identity: dict[str, Any], overwrite: bool = False) -> Iterator[Path]:
    """Own ``folder`` for one run: lock it, check the run there (``overwrite``: remove it), record this one.

    When the body finishes, the files it wrote are recorded and those of an earlier
    same run that it did not rewrite are removed. A body that fails leaves what it wrote
    to be resumed, and a folder it wrote nothing to as it was.
    """
    folder = Path(folder)
    with folder_lock(folder):
        found = claim_run_dir(folder, identity["command"], identity["editors"], identity, overwrite)
        earlier = _earlier_outputs(folder)
        before = (folder / RECORD).read_bytes() if (folder / RECORD).is_file() else None
        if overwrite and (earlier or (folder / PARTIAL).exists()):  # the earlier run goes, resume state too
            _remove(folder, earlier | {RECORD})
            shutil.rmtree(folder / PARTIAL, ignore_errors=True)
            why = f" ({'; '.join(found)})" if found else ""
            print(f"note: --overwrite: removed the {len(earlier)} files of the earlier run in {folder}{why}")
            earlier, before = set(), None
        foreign = _files(folder) - earlier  # not a run's: never recorded, never removed
        stamps = {p: _stamp(folder / p) for p in earlier}
        record = {
            "schema": RECORD_SCHEMA,
            "identity": identity,
            "pid": os.getpid(),
            "started": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "outputs": None,
        }
        write_json_atomic(folder / RECORD, record)
        try:
            yield folder
        except BaseException:
            if not (folder / PARTIAL).exists() and _unchanged(folder, foreign, stamps):
                _put_back(folder / RECORD, before)  # wrote nothing: the folder stays as it was
            raise
        _remove(folder, {p for p, stamp in stamps.items() if _stamp(folder / p) == stamp})  # not rewritten
        write_json_atomic(folder / RECORD, {**record, "outputs": sorted(_files(folder) - foreign)})


def claim_run(
    folder: Path, command: str, editors: list[str], config: Any, protocol: dict[str, Any], owner: bool = True
) -> contextlib.AbstractContextManager[Path]:
    """:func:`run_folder` for a run of ``config`` (its ``overwrite`` option); ``owner`` False
    (a rank other than 0, which writes only resume state) holds nothing."""
    if not owner:
        return contextlib.nullcontext(Path(folder))
    identity = run_identity(command, editors, config_to_json(config), protocol)
    return run_folder(folder, identity, overwrite=bool(getattr(config, "overwrite", False)))


def _earlier_outputs(folder: Path) -> set[str]:
    """Files of the run in ``folder``: those its record lists and those a run (or ``figures``,
    ``html`` on it) writes; none when no run is there."""
    if previous_run(folder) is None:
        return set()  # no run here: every file in it is someone else's
    data = _read_json(folder / RECORD) if (folder / RECORD).is_file() else None
    listed = data.get("outputs") if isinstance(data, dict) else None
    present = _files(folder)
    named = {p for p in present if p.split("/", 1)[0] in OUTPUT_NAMES}
    return named | (present & {str(p) for p in listed}) if isinstance(listed, list) else named


def _files(folder: Path) -> set[str]:
    """Files under ``folder`` (relative POSIX paths), less the lock, the record and resume state."""
    out = set()
    for path in folder.rglob("*"):
        rel = path.relative_to(folder).as_posix()
        if rel.split("/", 1)[0] in (RECORD, LOCK, PARTIAL) or not path.is_file() or path.is_symlink():
            continue
        out.add(rel)
    return out


def _unchanged(folder: Path, foreign: set[str], stamps: dict[str, Any]) -> bool:
    """True when no file of ``folder`` but the foreign ones is new or rewritten since ``stamps``."""
    return all(p in stamps and _stamp(folder / p) == stamps[p] for p in _files(folder) - foreign)


def _put_back(path: Path, content: bytes | None) -> None:
    """Restore a file's earlier ``content`` (None: it did not exist)."""
    if content is None:
        path.unlink(missing_ok=True)
    else:
        write_bytes_atomic(path, content)


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """Inode, modification time and size: changed by any rewrite (atomic ones make a new inode)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def _remove(folder: Path, files: set[str]) -> None:
    """Delete ``files`` (relative to ``folder``) and the folders they leave empty."""
    for rel in sorted(files):
        path = folder / rel
        path.unlink(missing_ok=True)
        for parent in path.parents:
            if parent == folder:
                break
            with contextlib.suppress(OSError):  # not empty: keep it and its parents
                parent.rmdir()
                continue
            break


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def _show(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    return str(value)
