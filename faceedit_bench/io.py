"""Atomic file writes (temp file in the same folder + ``os.replace``) and JSON helpers.

Every result, checkpoint and cache goes through here so a killed run never leaves
a half-written file where a complete one is expected. Files get the permissions a
plain ``open`` would give (0666 less the umask), not ``mkstemp``'s private 0600.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

# errors of the place written to (full, read-only, not allowed, not a folder), not of the data
WRITE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR,
     errno.EISDIR, errno.EEXIST, errno.EIO, errno.ENAMETOOLONG}
)  # fmt: skip


class WriteError(OSError):
    """A file could not be written; ``str()`` names the file and the reason (disk full, read-only...)."""

    def __str__(self) -> str:
        hint = {
            errno.ENOSPC: "; free some space or write elsewhere",
            errno.EDQUOT: "; free some space or write elsewhere",
            errno.EROFS: "; write elsewhere",
            errno.EACCES: "; write elsewhere or fix its permissions",
            errno.EPERM: "; write elsewhere or fix its permissions",
            errno.ENOTDIR: "; a folder on its path is a file",
            errno.EEXIST: " (a file where a folder is needed)",
        }.get(self.errno or 0, "")
        return f"cannot write {self.filename}: {self.strerror}{hint}"


def write_error(err: OSError, path: str | os.PathLike[str]) -> OSError:
    """``err`` as a :class:`WriteError` naming ``path`` when it is an error of the place written to."""
    if isinstance(err, WriteError) or err.errno not in WRITE_ERRNOS:
        return err
    where = err.filename if err.errno in (errno.ENOTDIR, errno.EEXIST) and err.filename else path
    return WriteError(err.errno, err.strerror or os.strerror(err.errno or 0), str(where))


def describe_os_error(err: OSError) -> str:
    """One line naming the file and what is wrong, for the CLI (never a traceback)."""
    if isinstance(err, WriteError):
        return str(err)
    if err.filename is not None:
        other = f" -> {err.filename2}" if err.filename2 is not None else ""
        return f"{err.filename}{other}: {err.strerror or err}"
    return err.strerror or str(err)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temp file beside ``path``; on success fsync and ``os.replace`` it into place.

    A failure of the place written to (disk full, read-only...) raises :class:`WriteError`
    naming ``path``; the temp file is removed.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as err:
        named = write_error(err, target)
        if named is err:
            raise
        raise named from err
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException as err:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        named = write_error(err, target) if isinstance(err, OSError) else err
        if named is not err:
            raise named from err
        raise


def current_umask() -> int:
    """The process umask, read without changing it where Linux shows it (``/proc/self/status``)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: read by setting it, then put it back
    os.umask(mask)
    return mask


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    with atomic_open(path, "wb") as f:
        f.write(data)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    with atomic_open(path, "w") as f:
        f.write(text)


def write_json_atomic(path: str | os.PathLike[str], obj: Any) -> None:
    write_text_atomic(
        path, json.dumps(obj, indent=2, sort_keys=False, allow_nan=False, default=_json_default) + "\n"
    )


def torch_save_atomic(obj: Any, path: str | os.PathLike[str]) -> None:
    """``torch.save`` through a temp file."""
    import torch

    with atomic_open(path, "wb") as f:
        torch.save(obj, f)


def append_jsonl(path: str | os.PathLike[str], record: dict[str, Any]) -> None:
    """Append one JSON line (a single ``write`` of a complete line, then fsync)."""
    target = Path(path)
    line = json.dumps(record, allow_nan=False, default=_json_default) + "\n"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
    except OSError as err:
        named = write_error(err, target)
        if named is err:
            raise
        raise named from err


def read_jsonl(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read JSON lines, ignoring a truncated last line left by a killed writer."""
    rows: list[dict[str, Any]] = []
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            if i == len(lines) - 1:
                break
            raise ValueError(f"{path}: line {i + 1} is not valid JSON") from None
    return rows


def sha256_file(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, tuple | set):
        return list(obj)
    if hasattr(obj, "item"):
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
