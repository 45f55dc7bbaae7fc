"""Cache files that prove what they hold, checked against an index kept apart from them.

A cache entry is a dict of tensors (and short strings) saved with the key it was
built for and the sha256 of every value's dtype, shape and bytes. Each cache folder
also keeps an index (``.cache-index.json``, written atomically under a lock) that maps
every entry file it wrote to that entry's key and the sha256 of the file's bytes.
:func:`load_checked` returns the tensors only when

1. the index records the file, for the same key, with the sha256 of its bytes (checked
   before the file is even opened by torch);
2. the file loads without code (``weights_only=True``), names the same key and still
   matches the checksum stored inside it.

Otherwise it says why (naming the file) and the caller rebuilds the entry. A checksum
stored in the entry alone proves nothing (anyone who edits the tensors can recompute
it); an entry written or edited by anything other than :func:`save_checked` is not in
the index, or not with its bytes, so a damaged, stale, planted or re-checksummed cache
entry is rebuilt, never used. A cache folder that cannot be written (full disk,
read-only) only means the entry is not cached: :func:`save_checked` warns and goes on.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path

import torch

from faceedit_bench.io import sha256_file, write_bytes_atomic, write_json_atomic
from faceedit_bench.safe_load import UnsafeOrBrokenFile, load_tensors

FORMAT = "faceedit-bench-cache/1"
INDEX_FORMAT = "faceedit-bench-cache-index/1"
INDEX_NAME = ".cache-index.json"
LOCK_NAME = ".cache-index.lock"


Entry = dict[str, torch.Tensor | str]

# index path -> ((inode, mtime_ns, size), entries): an index is parsed again only when it changed
_INDEX_MEMO: dict[Path, tuple[tuple[int, int, int], dict[str, dict[str, str]]]] = {}


def tensors_checksum(tensors: Entry) -> str:
    """sha256 over names, dtypes, shapes and bytes of ``tensors`` (in name order)."""
    h = hashlib.sha256()
    for name in sorted(tensors):
        value = tensors[name]
        if isinstance(value, str):
            h.update(f"{name}|str|{len(value)}|{value}".encode())
            continue
        t = value.detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def index_path(entry: Path) -> Path:
    """The index that records ``entry`` (one per cache folder: the entry's own folder)."""
    return Path(entry).parent / INDEX_NAME


@contextlib.contextmanager
def _locked(folder: Path, shared: bool) -> Iterator[None]:
    """An advisory lock on ``folder``'s index (exclusive to write, shared to read); none where unsupported."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock (atomic writes still keep every file whole)
        yield
        return
    try:
        handle = open(folder / LOCK_NAME, "a+b")  # noqa: SIM115 - held for the block below
    except OSError:  # a read-only cache folder: nobody writes it, nothing to lock against
        yield
        return
    with handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def read_index(folder: Path) -> dict[str, dict[str, str]]:
    """``{entry file name: {"key", "sha256"}}`` of ``folder``'s index (empty if missing or unreadable)."""
    path = Path(folder) / INDEX_NAME
    try:
        st = path.stat()
    except OSError:
        return {}
    stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
    memo = _INDEX_MEMO.get(path)
    if memo is not None and memo[0] == stamp:
        return memo[1]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    entries = data.get("entries") if isinstance(data, dict) and data.get("format") == INDEX_FORMAT else None
    if not isinstance(entries, dict):
        print(f"warning: cache index {path} is unreadable; every entry it recorded will be rebuilt")
        entries = {}
    entries = {
        name: rec
        for name, rec in entries.items()
        if isinstance(rec, dict) and isinstance(rec.get("key"), str) and isinstance(rec.get("sha256"), str)
    }
    _INDEX_MEMO[path] = (stamp, entries)
    return entries


def save_checked(path: Path, key: str, tensors: Entry) -> bool:
    """Write ``tensors`` with their key and checksum (atomically) and record the file in its folder's index.

    Returns False (after a warning naming the file) when the cache cannot be written:
    the caller goes on with the values it computed, uncached.
    """
    path = Path(path)
    record = {"format": FORMAT, "key": key, "sha256": tensors_checksum(tensors), "tensors": tensors}
    buffer = io.BytesIO()
    torch.save(record, buffer)
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(path.parent, shared=False):
            write_bytes_atomic(path, data)
            entries = dict(read_index(path.parent))
            entries[path.name] = {"key": key, "sha256": digest}
            write_json_atomic(index_path(path), {"format": INDEX_FORMAT, "entries": entries})
    except OSError as err:
        print(
            f"warning: could not write cache entry {path} ({err.strerror or err}); continuing without caching it"
        )
        return False
    return True


def load_checked(path: Path, key: str) -> tuple[Entry | None, str]:
    """``(tensors, "")`` for a valid entry of ``key``; ``(None, why)`` when missing or unusable.

    ``why`` names the file and what is wrong with it (``"missing"`` when there is no file).
    """
    path = Path(path)
    if not path.is_file():
        return None, "missing"
    index = index_path(path)
    with _locked(path.parent, shared=True):
        listed = read_index(path.parent).get(path.name)
        if listed is None:
            return None, (
                f"{path} is not recorded in the cache index {index}: it was not written by this cache "
                "(planted, copied in, or left by an older version)"
            )
        if listed["key"] != key:
            return None, f"{path} is recorded in {index} for key {listed['key']!r}, not {key!r}"
        try:
            digest = sha256_file(path)
        except OSError as err:
            return None, f"{path} cannot be read ({err.strerror or err})"
        if digest != listed["sha256"]:
            return None, (
                f"{path}: its sha256 does not match the checksum recorded for it in the cache index {index} "
                "(damaged, replaced or edited after it was written)"
            )
        try:
            record = load_tensors(path, "cache file")
        except UnsafeOrBrokenFile as err:
            return None, str(err)
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        return None, f"{path} is not a checksummed cache file (an older or foreign format)"
    tensors = record.get("tensors")
    if record.get("key") != key:
        return None, f"{path} was built for key {record.get('key')!r}, not {key!r}"
    if not isinstance(tensors, dict) or not all(isinstance(t, torch.Tensor | str) for t in tensors.values()):
        return None, f"{path} holds values other than tensors and strings"
    if tensors_checksum(tensors) != record.get("sha256"):
        return None, f"{path}: contents do not match their checksum (damaged or edited)"
    return tensors, ""
