"""Write AU annotations as a py-feat Fex CSV: ``input`` + ``AU01`` ... columns on py-feat's 0-1 scale.

py-feat's ``Detector.detect`` reports AU columns named ``AU01`` ... with values in [0, 1];
``feat.utils.io.read_feat`` loads any CSV whose AU columns contain "AU" back into a
``Fex``. We write our 17 AUs divided by 5 (AU45 keeps its name: py-feat has no AU45
column of its own), NaN as an empty cell, rows named by ``input``.
:func:`faceedit_bench.data.aus_io.read_au_file` reads the file back (multiplying by 5).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from faceedit_bench.api.aus import AU_MAX, AU_NAMES, N_AUS
from faceedit_bench.data.aus_io import write_au_csv, write_named_csv

FORMATS = ("openface", "fex")


def write_fex_csv(path: str | Path, names: Sequence[str], aus: torch.Tensor | np.ndarray) -> None:
    """Write ``input,AU01,...,AU45`` rows (0-1) atomically; NaN -> empty cell."""
    values = np.asarray(aus, dtype=np.float64)
    if values.shape != (len(names), N_AUS):
        raise ValueError(f"{path}: expected AUs of shape ({len(names)}, {N_AUS}), got {values.shape}")
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: duplicated names in the rows to write")
    cells = [
        ["" if math.isnan(v) else f"{min(max(v, 0.0), AU_MAX) / AU_MAX:.6f}" for v in row] for row in values
    ]
    write_named_csv(path, "input", AU_NAMES, [str(n) for n in names], cells)


def write_aus(path: str | Path, names: Sequence[str], aus: torch.Tensor | np.ndarray, fmt: str) -> None:
    """Write ``aus`` as ``fmt``: ``openface`` (``name,AU01_r...``, 0-5) or ``fex`` (py-feat, 0-1)."""
    if fmt == "openface":
        write_au_csv(path, names, aus)
    elif fmt == "fex":
        write_fex_csv(path, names, aus)
    else:
        raise ValueError(f"unknown AU file format {fmt!r}; known: {', '.join(FORMATS)}")
