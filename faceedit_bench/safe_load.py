"""Load torch files without running code from them (``torch.load(weights_only=True)``).

Every checkpoint, weights file and cache the toolkit reads goes through
:func:`load_tensors`: only tensors, numbers, strings and plain containers are
accepted, so a file planted by someone else cannot execute anything. Failures
become one :class:`UnsafeOrBrokenFile` error (also for a shipped file that differs from
the assets manifest, see :mod:`faceedit_bench.shipped`) that names the file and says what
is wrong with it (missing, truncated, not a torch file, or holding objects).
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import torch

from faceedit_bench.shipped import ShippedFileError, verify_shipped


class UnsafeOrBrokenFile(ValueError):
    """A file that cannot be loaded safely; the message names the file and the reason."""


def load_tensors(path: str | os.PathLike[str], what: str = "file") -> Any:
    """``torch.load(path, weights_only=True)`` on CPU with errors that name ``path`` and ``what`` it is."""
    path = Path(path)
    if not path.is_file():
        raise UnsafeOrBrokenFile(f"{what} {path} does not exist")
    if path.stat().st_size == 0:
        raise UnsafeOrBrokenFile(f"{what} {path} is empty (0 bytes)")
    try:
        verify_shipped(path)  # a shipped weight file must match the assets manifest
    except ShippedFileError as err:
        raise UnsafeOrBrokenFile(f"{what} {err}") from None
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        if "weights_only" in str(err) or "Unsupported global" in str(err):
            raise UnsafeOrBrokenFile(
                f"{what} {path} was refused: it holds Python objects beyond tensors, numbers, strings "
                f"and containers, which could run code when loaded ({reason})"
            ) from None
        raise UnsafeOrBrokenFile(f"{what} {path} is not a readable torch file ({reason})") from None
    except Exception as err:  # torch raises many types (KeyError, EOFError, BadZipFile...) on garbage
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise UnsafeOrBrokenFile(f"{what} {path} is truncated or not a torch file ({reason})") from None
