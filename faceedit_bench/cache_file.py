"""Cache files that prove what they hold: a key of what produced them and a content checksum.

A cache entry is a dict of tensors (and short strings) saved with the key it was
built for and the sha256 of every value's dtype, shape and bytes. :func:`load_checked` returns the
tensors only when the file loads without code (``weights_only=True``), names the
same key and still matches its checksum; otherwise it says why and the caller
rebuilds. A damaged, stale or edited cache is thus rebuilt, never used.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch

from faceedit_bench.io import torch_save_atomic
from faceedit_bench.safe_load import UnsafeOrBrokenFile, load_tensors

FORMAT = "faceedit-bench-cache/1"


Entry = dict[str, torch.Tensor | str]


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


def save_checked(path: Path, key: str, tensors: Entry) -> None:
    """Write ``tensors`` with their key and checksum (atomically)."""
    record = {"format": FORMAT, "key": key, "sha256": tensors_checksum(tensors), "tensors": tensors}
    torch_save_atomic(record, path)


def load_checked(path: Path, key: str) -> tuple[Entry | None, str]:
    """``(tensors, "")`` for a valid entry of ``key``; ``(None, why)`` when missing or unusable."""
    if not path.is_file():
        return None, "missing"
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
