"""AU annotation files: readers to ``{image_name: (17,) tensor on 0-5}`` and an OpenFace-style writer.

Formats (detected by :func:`read_au_file` from the extension and the header):

* **OpenFace 2** ``FeatureExtraction``/``FaceLandmarkImg`` CSV (Baltrusaitis et al.,
  FG 2018): columns ``AU01_r`` ... ``AU45_r``, regression intensities already on
  0-5; headers may carry a space after each comma. The name of a row is its
  ``name``/``filename``/``file``/``image``/``input`` column (base name), else its
  ``frame`` number (OpenFace's per-video output).
* **py-feat Fex** CSV (``Detector.detect`` output): columns ``AU01`` ... with values in
  ``[0, 1]`` (xgb: probability of presence; svm/older models: 0-1 intensity). We
  multiply by 5 to put them on the 0-5 axis (ours). Rows are named by the base name
  of ``input``, or by ``frame`` when all rows come from one video. Rows whose AUs are
  all empty are faces py-feat did not find and are dropped.
* **OpenFace per-image folder**: one ``FaceLandmarkImg`` CSV per image, named by the
  image stem (what GANimation's ``prepare_au_annotations.py`` reads).
* **GANimation** ``aus_openface.pkl`` (Pumarola et al., ECCV 2018,
  ``data/prepare_au_annotations.py``): a pickled ``dict`` image stem -> 17 OpenFace
  intensities in the vocabulary order, 0-5. It is unpickled with a restricted
  unpickler that only admits numpy arrays and plain containers.

Validation (every error names the file): a required AU column missing (listing
which), a NaN in a column that has values elsewhere (row and column), a value
outside the format's range (row, column, value), duplicated names, no rows, or no
AU value at all (nothing to learn from). A column that is
empty in every row means "this annotator cannot see that AU" and reads as NaN.
Rows are numbered as a spreadsheet shows them (:func:`csv_row`: the header is row 1),
like the manifest reader's.
"""

from __future__ import annotations

import io
import math
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from faceedit_bench.api.aus import AU_MAX, AU_NAMES, N_AUS
from faceedit_bench.io import write_text_atomic

AUTable = dict[str, torch.Tensor]
NAME_COLUMNS = ("name", "filename", "file", "image", "input")
OPENFACE_COLUMNS = tuple(f"{au}_r" for au in AU_NAMES)
# py-feat xgb/svm AU columns that are in our vocabulary (it has no AU45).
FEX_REQUIRED = tuple(au for au in AU_NAMES if au != "AU45")
_TOL = 1e-4


class AUFileError(ValueError):
    """An AU annotation file is malformed; the message names the file and the problem."""


def read_au_file(path: str | Path) -> AUTable:
    """Read any supported AU file (OpenFace CSV, py-feat Fex CSV, GANimation pkl, OpenFace folder)."""
    path = Path(path)
    if path.is_dir():
        return read_openface_folder(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such AU annotation file")
    if path.suffix.lower() in (".pkl", ".pickle"):
        return read_ganimation_pkl(path)
    if path.suffix.lower() != ".csv":
        raise AUFileError(f"{path}: unknown AU file type {path.suffix!r}; expected .csv or .pkl")
    header = _read_csv(path).columns
    if any(c in header for c in OPENFACE_COLUMNS):
        return read_openface_csv(path)
    if any(c in header for c in AU_NAMES):
        return read_fex_csv(path)
    raise AUFileError(
        f"{path}: no AU columns found; expected OpenFace 'AU01_r'... or py-feat 'AU01'... "
        f"(header starts {list(header)[:6]})"
    )


def read_openface_csv(path: str | Path) -> AUTable:
    """OpenFace 2 CSV (``AUxx_r`` intensities 0-5) -> ``{name: (17,)}``."""
    path = Path(path)
    df = _read_csv(path)
    _require(path, df.columns, OPENFACE_COLUMNS)
    names = _row_names(path, df)
    values = _validated(path, df, list(OPENFACE_COLUMNS), AU_MAX)
    return _table(path, names, values)


def read_openface_folder(folder: str | Path) -> AUTable:
    """A folder of per-image OpenFace CSVs (``FaceLandmarkImg`` output, ``<stem>.csv``) -> ``{stem: (17,)}``.

    This is the input of GANimation's ``prepare_au_annotations.py``; with several faces
    in one CSV the row with the highest ``confidence`` is used.
    """
    folder = Path(folder)
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise AUFileError(f"{folder}: no OpenFace .csv files in this folder")
    rows, names = [], []
    for path in files:
        df = _read_csv(path)
        _require(path, df.columns, OPENFACE_COLUMNS)
        if df.empty:
            raise AUFileError(f"{path}: no rows (OpenFace found no face)")
        values = _validated(path, df, list(OPENFACE_COLUMNS), AU_MAX)
        best = int(df["confidence"].to_numpy().argmax()) if "confidence" in df.columns else 0
        rows.append(values[best])
        names.append(path.stem)
    return _table(folder, names, np.stack(rows))


def read_fex_csv(path: str | Path) -> AUTable:
    """py-feat Fex CSV (``AUxx`` in 0-1) -> ``{name: (17,)}`` scaled by 5; AU45 is NaN."""
    path = Path(path)
    df = _read_csv(path)
    _require(path, df.columns, FEX_REQUIRED)
    present = [au for au in AU_NAMES if au in df.columns]
    found = df[present].notna().any(axis=1).to_numpy()
    df = df[found].reset_index(drop=True)
    names = _row_names(path, df)
    raw = _validated(path, df, present, 1.0)
    values = np.full((len(df), N_AUS), np.nan, dtype=np.float32)
    for k, au in enumerate(present):
        values[:, AU_NAMES.index(au)] = raw[:, k] * AU_MAX
    return _table(path, names, values)


def read_ganimation_pkl(path: str | Path) -> AUTable:
    """GANimation ``aus_openface.pkl`` (dict stem -> 17 intensities 0-5) -> ``{name: (17,)}``."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            data = _SafeUnpickler(io.BytesIO(f.read()), encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as err:
        raise AUFileError(f"{path}: not a readable GANimation AU pickle ({err})") from None
    if not isinstance(data, dict):
        raise AUFileError(f"{path}: expected a dict name -> 17 AU values, got {type(data).__name__}")
    names = [str(k) for k in data]
    rows = []
    for name, value in data.items():
        arr = np.asarray(value, dtype=np.float32).reshape(-1)
        if arr.shape != (N_AUS,):
            raise AUFileError(
                f"{path}: entry {name!r} has {arr.size} values, expected {N_AUS} ({', '.join(AU_NAMES)})"
            )
        rows.append(arr)
    values = np.stack(rows) if rows else np.zeros((0, N_AUS), dtype=np.float32)
    _check_values(path, values, list(AU_NAMES), AU_MAX, row_names=names)
    return _table(path, names, values)


def write_au_csv(path: str | Path, names: Sequence[str], aus: torch.Tensor | np.ndarray) -> None:
    """Write an OpenFace-style CSV (``name,AU01_r,...,AU45_r``) atomically; NaN -> empty cell.

    Every name is quoted (RFC 4180: ``"`` doubled), so commas, quotes, newlines and
    leading or trailing spaces in file names survive :func:`read_au_file` unchanged.
    """
    values = np.asarray(aus, dtype=np.float64)
    if values.shape != (len(names), N_AUS):
        raise ValueError(f"{path}: expected AUs of shape ({len(names)}, {N_AUS}), got {values.shape}")
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: duplicated names in the rows to write")
    cells = [["" if math.isnan(v) else f"{min(max(v, 0.0), AU_MAX):.4f}" for v in row] for row in values]
    write_named_csv(path, "name", OPENFACE_COLUMNS, names, cells)


def write_named_csv(
    path: str | Path,
    name_column: str,
    columns: Sequence[str],
    names: Sequence[str],
    cells: Sequence[Sequence[str]],
) -> None:
    """The one CSV writer for per-image rows: a quoted name then preformatted cells, atomically.

    Names are always quoted (``"`` doubled), so commas, quotes, newlines and leading or
    trailing spaces survive :func:`read_au_file` (which reads name columns as text).
    """
    lines = [",".join((name_column, *columns))]
    for name, row in zip(names, cells, strict=True):
        lines.append(",".join(('"' + str(name).replace('"', '""') + '"', *row)))
    write_text_atomic(path, "\n".join(lines) + "\n")


# --- helpers ----------------------------------------------------------------------------


def csv_row(index: int) -> str:
    """Data row ``index`` (0-based) of a CSV as a spreadsheet numbers it (the header is row 1):
    the one numbering of every CSV message (AU files, manifests, exported pairs)."""
    return f"row {index + 2}"


def _read_csv(path: Path):  # -> pandas.DataFrame
    import pandas as pd

    try:
        header = pd.read_csv(path, skipinitialspace=True, nrows=0).columns
        # name columns stay text exactly as written ("001.png", "NA.png", " lead.png" when quoted)
        as_text = {c: str for c in header if str(c).strip() in NAME_COLUMNS}
        df = pd.read_csv(path, skipinitialspace=True, converters=as_text)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise AUFileError(f"{path}: not a readable CSV ({err})") from None
    df.columns = [str(c).strip() for c in df.columns]
    return df


def _require(path: Path, columns: Sequence[str], required: Sequence[str]) -> None:
    missing = [c for c in required if c not in columns]
    if missing:
        raise AUFileError(f"{path}: missing AU columns {', '.join(missing)}")


def _row_names(path: Path, df) -> list[str]:
    for col in NAME_COLUMNS:
        if col in df.columns:
            names = [Path(str(v).replace("\\", "/")).name for v in df[col]]
            if len(set(names)) < len(names) and "frame" in df.columns and len(set(names)) == 1:
                break  # all rows from one video: name them by frame
            return names
    if "frame" in df.columns:
        return [str(int(v)) for v in df["frame"]]
    raise AUFileError(
        f"{path}: no column naming the rows; expected one of {', '.join(NAME_COLUMNS)} or 'frame'"
    )


def _validated(path: Path, df, columns: list[str], top: float) -> np.ndarray:
    import pandas as pd

    block = df[columns].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float32)
    bad = np.isnan(block) & df[columns].notna().to_numpy()
    if bad.any():
        r, c = map(int, np.argwhere(bad)[0])
        raise AUFileError(
            f"{path}: {csv_row(r)}, column {columns[c]}: not a number ({df[columns[c]].iloc[r]!r})"
        )
    _check_values(path, block, columns, top)
    return block


def _check_values(path: Path, block: np.ndarray, columns: list[str], top: float, row_names=None) -> None:
    nan = np.isnan(block)
    partial = nan & ~nan.all(axis=0, keepdims=True)  # a NaN in a column that has values elsewhere
    if partial.any():
        r, c = map(int, np.argwhere(partial)[0])
        where = f"entry {row_names[r]!r}" if row_names else csv_row(r)
        raise AUFileError(f"{path}: {where}, column {columns[c]}: missing value (NaN)")
    out = ~nan & ((block < -_TOL) | (block > top + _TOL))
    if out.any():
        r, c = map(int, np.argwhere(out)[0])
        where = f"entry {row_names[r]!r}" if row_names else csv_row(r)
        raise AUFileError(f"{path}: {where}, column {columns[c]}: value {block[r, c]:g} outside [0, {top:g}]")


def _table(path: Path, names: list[str], values: np.ndarray) -> AUTable:
    if not names:
        raise AUFileError(f"{path}: no rows (no image is annotated)")
    if np.isnan(values).all():
        raise AUFileError(f"{path}: every AU value is empty (NaN): no usable label in this file")
    seen: set[str] = set()
    dups = sorted({n for n in names if n in seen or seen.add(n)})
    if dups:
        raise AUFileError(f"{path}: duplicated names {', '.join(dups[:5])}{' ...' if len(dups) > 5 else ''}")
    clipped = np.clip(values, 0.0, AU_MAX)
    return {n: torch.from_numpy(clipped[i].copy()) for i, n in enumerate(names)}


class _SafeUnpickler(pickle.Unpickler):
    """Admits only numpy arrays/scalars/dtypes and builtin containers."""

    _ALLOWED: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy.core.multiarray", "scalar"),
            ("numpy._core.multiarray", "scalar"),
            ("numpy", "ndarray"),
            ("numpy.core.numeric", "_frombuffer"),  # protocol-5 arrays
            ("numpy._core.numeric", "_frombuffer"),
            ("numpy", "dtype"),
            ("collections", "OrderedDict"),
            ("_codecs", "encode"),  # protocol-2 pickles store array bytes through it
            ("builtins", "dict"),
            ("builtins", "list"),
        }
    )

    def find_class(self, module: str, name: str):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name} (only numpy arrays and dicts are allowed)"
            )
        return super().find_class(module, name)
