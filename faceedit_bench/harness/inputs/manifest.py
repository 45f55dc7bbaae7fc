"""Score edits made by any other system, described by a CSV.

Two kinds of CSV:

* an **exported protocol's** ``pairs.csv`` (``faceedit-bench export``): columns ``id``,
  ``source``, ``edited`` and the target AUs; read by :class:`ExternalEdits`, which
  replays the ``edited`` images as one more editor on that protocol's own pairs (same
  crop, ground truth and judges as every other editor);
* a **free-form manifest** (:class:`ManifestPairs`): ``source`` and ``edited`` paths, the
  17 target AUs (``AU01`` ... ``AU45``, or OpenFace-style ``AU01_r``) and optionally
  ``target`` (a ground-truth image) and ``id``. An empty AU cell means "this AU was not
  asked for" (NaN: not scored); any text in an AU cell, ``nan`` and ``NA`` included, is
  refused naming the row. AU columns are 0-5 unless ``au_scale=1`` says 0-1
  (py-feat Fex); AU values all within 0-1 without an explicit scale draw a warning.
  Ids are taken as written (``NA`` is an id); an empty or repeated id is refused, naming
  the rows. Rows that repeat another row (same files and AUs) are scored each time,
  with a warning naming them.

Rows are numbered as a spreadsheet shows them (the header is row 1), as every CSV
reader of the package does (:func:`faceedit_bench.data.aus_io.csv_row`).

Paths are relative to the CSV's folder and stay in it: an absolute path, or one that
leaves the folder (``..``, or a symlink pointing out of it), is refused naming the
file, row and column (:func:`contained_path`, for every path column). Images of another size are
centre-cropped to square and resized (bilinear, antialiased) to the protocol
resolution: the same rule for every image. Exported sources already are the
protocol's crops, so an edit of the same size is used pixel for pixel.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import torch
import torch.nn.functional as F

from faceedit_bench.api.aus import AU_MAX, AU_NAMES
from faceedit_bench.api.batch import PairBatch
from faceedit_bench.api.dataset import PairSet
from faceedit_bench.api.editor import Editor, EditOutput
from faceedit_bench.data.aus_io import csv_row
from faceedit_bench.harness.inputs.names import ManifestError, parse_externals

EXPORT_INFO = "protocol.json"  # written by `faceedit-bench export` beside pairs.csv
AU_MATCH_TOL = 2e-3  # on the 0-5 scale: the CSV holds 6 decimals


def fit_to_resolution(image: torch.Tensor, resolution: int) -> torch.Tensor:
    """Centre-crop ``(3, H, W)`` to square, then resize to ``resolution``."""
    _, h, w = image.shape
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    image = image[:, top : top + side, left : left + side]
    if side != resolution:
        image = F.interpolate(image[None], size=(resolution, resolution), mode="bilinear", antialias=True)[0]
    return image.clamp(0, 1)


def _au_columns(frame: pd.DataFrame, path: Path) -> list[str]:
    cols = []
    for au in AU_NAMES:
        found = [c for c in (au, f"{au}_r") if c in frame.columns]
        if not found:
            raise ManifestError(f"{path}: missing AU column {au} (or {au}_r)")
        cols.append(found[0])
    return cols


def read_csv(path: Path, required: Sequence[str]) -> pd.DataFrame:
    """A non-empty CSV with ``required`` columns, or a :class:`ManifestError` naming the file."""
    if not path.is_file():
        raise ManifestError(f"{path}: manifest file not found")
    try:  # only an empty cell is missing: "NA", "nan", "null" stay text (an id, or a refused AU value)
        frame = pd.read_csv(
            path,
            dtype={"id": str, "source": str, "edited": str, "target": str},
            keep_default_na=False,
            na_values=[""],
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ManifestError(f"{path}: not a readable CSV ({err})") from None
    for col in required:
        if col not in frame.columns:
            raise ManifestError(f"{path}: missing column {col!r}")
    if frame.empty:
        raise ManifestError(f"{path}: no rows")
    return frame


def read_target_aus(frame: pd.DataFrame, path: Path, au_scale: float | None) -> torch.Tensor:
    """The 17 AU columns on the 0-5 scale; empty cells -> NaN ("not asked")."""
    cols = _au_columns(frame, path)
    raw = frame[cols]
    aus = raw.apply(pd.to_numeric, errors="coerce")
    scale = AU_MAX if au_scale is None else float(au_scale)
    bad = (aus.isna() & raw.notna()) | (aus < 0) | (aus > scale)
    if bad.to_numpy().any():
        row, col = next(zip(*bad.to_numpy().nonzero(), strict=True))
        raise ManifestError(
            f"{path}: {csv_row(row)}, column {aus.columns[col]}: AU value {plain(raw.iloc[row, col])}"
            f" is not a number in [0, {scale:g}] (leave the cell empty for 'not asked'; see --au-scale)"
        )
    values = torch.tensor(aus.to_numpy(dtype="float64"), dtype=torch.float32)
    finite = values[torch.isfinite(values)]
    if au_scale is None and finite.numel() and float(finite.max()) <= 1.0:
        print(
            f"warning: {path}: every AU value is within 0-1; they are read as 0-5 intensities. "
            "If they are py-feat Fex values (0-1), pass --au-scale 1"
        )
    return values * (AU_MAX / scale)


def plain(value: Any) -> str:
    """A cell for a message: numbers as written (``inf``, ``7.5``, never ``np.float64(inf)``), text quoted."""
    if isinstance(value, str):
        return repr(value)
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return repr(str(value))


def contained_path(value: str, csv_path: Path, row: int, column: str) -> Path:
    """The path in cell ``row`` (as numbered in the file), ``column``: inside the CSV's folder, or refused."""
    base = csv_path.parent
    where = f"{csv_path}: row {row}, column {column}: path {value!r}"
    path = Path(value)
    if path.is_absolute():
        raise ManifestError(f"{where} is absolute; give it relative to the CSV's folder {base}")
    full = base / path
    if not full.resolve().is_relative_to(base.resolve()):
        raise ManifestError(
            f"{where} leaves the CSV's folder {base} (it resolves to {full.resolve()}); "
            "put the images in that folder"
        )
    return full


def _paths(frame: pd.DataFrame, column: str, csv_path: Path) -> list[Path | None]:
    """The paths of ``column``, each checked by :func:`contained_path`; an empty cell is None."""
    out: list[Path | None] = []
    for i, v in enumerate(frame[column]):
        if pd.isna(v) or not str(v).strip():
            out.append(None)
            continue
        out.append(contained_path(str(v).strip(), csv_path, i + 2, column))
    return out


def check_ids(frame: pd.DataFrame, csv_path: Path) -> list[str]:
    """The ``id`` column as written; an empty or repeated id is a :class:`ManifestError` naming rows and ids."""
    ids = [None if pd.isna(v) else str(v) for v in frame["id"]]
    empty = [csv_row(i) for i, v in enumerate(ids) if v is None or not v.strip()]
    if empty:
        raise ManifestError(
            f"{csv_path}: {len(empty)} empty id(s) in column 'id' ({', '.join(empty[:5])}"
            f"{' ...' if len(empty) > 5 else ''}); give every row an id"
        )
    rows: dict[str, list[int]] = {}
    for i, v in enumerate(ids):
        rows.setdefault(str(v), []).append(i)
    dups = {v: r for v, r in rows.items() if len(r) > 1}
    if dups:
        named = "; ".join(
            f"{v!r} in rows {', '.join(str(i + 2) for i in r)}" for v, r in list(dups.items())[:5]
        )
        raise ManifestError(
            f"{csv_path}: {len(dups)} duplicated id(s) in column 'id': {named}{' ...' if len(dups) > 5 else ''}"
        )
    return [str(v) for v in ids]


def warn_repeated_rows(frame: pd.DataFrame, columns: Sequence[str], csv_path: Path) -> list[list[int]]:
    """Groups of rows (0-based) equal in ``columns``: each is scored as often as listed, so say so."""
    rows: dict[tuple[str, ...], list[int]] = {}
    for i, values in enumerate(frame[list(columns)].itertuples(index=False, name=None)):
        rows.setdefault(tuple(map(str, values)), []).append(i)
    groups = [g for g in rows.values() if len(g) > 1]
    if groups:
        named = "; ".join(", ".join(str(i + 2) for i in g) for g in groups[:5])
        print(
            f"warning: {csv_path}: {sum(len(g) - 1 for g in groups)} row(s) repeat another row "
            f"(same files and target AUs), each scored again: rows {named}"
            f"{' ...' if len(groups) > 5 else ''}; remove the repeats unless you mean to weight them"
        )
    return groups


def image_file_problem(path: Path | None) -> str | None:
    """Why ``path`` (a manifest cell) is not an image file to read, or None."""
    if path is None:
        return "(empty cell): give an image file"
    if path.is_dir():
        return f"{path} is a folder, not an image file"
    if not path.exists():
        return f"{path} does not exist"
    if not path.is_file():
        return f"{path} is not a regular file"
    return None


def read_export_info(csv_path: Path) -> dict[str, Any] | None:
    """The ``protocol.json`` that ``faceedit-bench export`` wrote beside ``csv_path``, if any."""
    path = Path(csv_path).parent / EXPORT_INFO
    if not path.is_file():
        return None
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ManifestError(f"{path}: not a readable export record ({err})") from None
    if not isinstance(info, dict) or "protocol" not in info:
        raise ManifestError(f"{path}: not a faceedit-bench export record (no 'protocol')")
    return info


class ManifestPairs(PairSet):
    """The pairs a free-form manifest describes (ground truth when it has a ``target`` column)."""

    def __init__(self, manifest: str | Path, resolution: int, au_scale: float | None = None) -> None:
        self.path = Path(manifest)
        frame = read_csv(self.path, ("source", "edited"))
        self.rows = frame
        self.resolution = resolution
        self.au_scale = AU_MAX if au_scale is None else float(au_scale)
        self.target_aus = read_target_aus(frame, self.path, au_scale)
        self.has_ground_truth = "target" in frame.columns
        self.ids = (
            check_ids(frame, self.path)
            if "id" in frame.columns
            else [f"row{i + 2}" for i in range(len(frame))]
        )
        columns = ("source", "edited", "target") if self.has_ground_truth else ("source", "edited")
        self.files: dict[str, list[Path]] = {}
        for col in columns:
            paths = _paths(frame, col, self.path)
            for i, p in enumerate(paths):
                problem = image_file_problem(p)
                if problem is not None:
                    raise ManifestError(f"{self.path}: {csv_row(i)}: {col} file {problem}")
            self.files[col] = paths  # type: ignore[assignment]
        warn_repeated_rows(frame, [*columns, *_au_columns(frame, self.path)], self.path)

    def __len__(self) -> int:
        return len(self.rows)

    def cache_key(self) -> str:
        digest = hashlib.sha256(self.path.read_bytes()).hexdigest()[:16]
        return f"manifest-{digest}-{self.resolution}"

    def load(self, column: str, indices: Sequence[int]) -> torch.Tensor:
        return torch.stack([load_fitted(self.files[column][i], self.resolution) for i in indices])

    def batch(self, indices: Sequence[int]) -> PairBatch:
        idx = list(indices)
        return PairBatch(
            source=self.load("source", idx),
            target_aus=self.target_aus[idx],
            sample_ids=[self.ids[i] for i in idx],
            target_image=self.load("target", idx) if self.has_ground_truth else None,
        )


def load_fitted(path: Path, resolution: int) -> torch.Tensor:
    from faceedit_bench.data.images import read_image

    return fit_to_resolution(read_image(path), resolution)


class PrecomputedEditor(Editor):
    """Replays the ``edited`` images of a manifest: scores a system we cannot run."""

    free_edits: ClassVar[bool] = False

    def __init__(self, pairs: ManifestPairs, name: str = "external") -> None:
        self.pairs = pairs
        self.name = name
        self._index = {sid: i for i, sid in enumerate(pairs.ids)}

    def edit(self, images: torch.Tensor, target_aus: torch.Tensor) -> EditOutput:
        raise RuntimeError("a precomputed editor can only replay its manifest's pairs (edit_batch)")

    def edit_batch(self, batch: PairBatch) -> EditOutput:
        return EditOutput(images=self.pairs.load("edited", [self._index[s] for s in batch.sample_ids]))

    def describe(self) -> dict[str, object]:
        return {"class": "manifest", "manifest": str(self.pairs.path), "manifest_key": self.pairs.cache_key()}


class ExternalEdits(Editor):
    """Another system's edits of an exported protocol's pairs (``pairs.csv``: id, edited, AUs).

    Looked up by pair id, so it runs beside the shipped editors on the protocol's own
    pairs: same sources, ground truth, judges. Each batch's target AUs are checked
    against the CSV's (a CSV from another protocol or version fails, naming the row).
    """

    free_edits: ClassVar[bool] = False

    def __init__(self, csv_path: str | Path, name: str, resolution: int, n_rows: int | None = None) -> None:
        self.path = Path(csv_path)
        self.name = name
        self.resolution = resolution
        frame = read_csv(self.path, ("id", "edited"))
        self.info = read_export_info(self.path)
        self.au_scale = float((self.info or {}).get("au_scale", AU_MAX))
        has_aus = all(au in frame.columns or f"{au}_r" in frame.columns for au in AU_NAMES)
        self.target_aus = read_target_aus(frame, self.path, self.au_scale) if has_aus else None
        ids = check_ids(frame, self.path)
        self._row = {sid: i for i, sid in enumerate(ids)}
        self.files = _paths(frame, "edited", self.path)
        checked = self.files if n_rows is None else self.files[:n_rows]
        absent = [(i, image_file_problem(p)) for i, p in enumerate(checked)]
        absent = [(i, why) for i, why in absent if why is not None]
        if absent:
            i, why = absent[0]
            raise ManifestError(
                f"{self.path}: {len(absent)} of {len(checked)} rows have no edited image, e.g. {csv_row(i)}: "
                f"{why}; write your system's edit of each source there"
            )

    def check_protocol(self, protocol_json: dict[str, Any]) -> None:
        """Refuse a CSV exported from another protocol or version."""
        if self.info is None:
            return
        mine = self.info["protocol"]
        if (mine.get("name"), mine.get("version")) != (protocol_json["name"], protocol_json["version"]):
            raise ManifestError(
                f"{self.path}: exported from protocol {mine.get('name')} v{mine.get('version')}, "
                f"but this run is {protocol_json['name']} v{protocol_json['version']}; "
                f"use --protocol {mine.get('name')} or re-export"
            )

    def edit(self, images: torch.Tensor, target_aus: torch.Tensor) -> EditOutput:
        raise RuntimeError(f"{self.name}: external edits can only replay the exported pairs (edit_batch)")

    def edit_batch(self, batch: PairBatch) -> EditOutput:
        rows = []
        for sid in batch.sample_ids:
            if sid not in self._row:
                raise ManifestError(f"{self.path}: no row for pair {sid!r} of this protocol (column 'id')")
            rows.append(self._row[sid])
        if self.target_aus is not None:
            self._check_aus(rows, batch)
        images = []
        for r in rows:
            path = self.files[r]
            problem = image_file_problem(path)
            if problem is not None:
                raise ManifestError(f"{self.path}: {csv_row(r)}: edited file {problem}")
            images.append(load_fitted(path, self.resolution))
        return EditOutput(images=torch.stack(images).to(batch.source.device))

    def _check_aus(self, rows: list[int], batch: PairBatch) -> None:
        mine = self.target_aus[rows]  # type: ignore[index]
        theirs = batch.target_aus.detach().float().cpu()
        same_nan = torch.isnan(mine) == torch.isnan(theirs)
        diff = torch.nan_to_num((mine - theirs).abs(), nan=0.0)
        bad = ~same_nan.all(dim=1) | (diff.max(dim=1).values > AU_MATCH_TOL)
        if bad.any():
            k = int(bad.nonzero()[0])
            raise ManifestError(
                f"{self.path}: {csv_row(rows[k])} (pair {batch.sample_ids[k]!r}): its target AUs differ from "
                f"the protocol's (max difference {float(diff[k].max()):.3g} on 0-5); was it exported from "
                "another protocol or version?"
            )

    def describe(self) -> dict[str, object]:
        digest = hashlib.sha256(self.path.read_bytes()).hexdigest()[:16]
        return {
            "class": "external",
            "csv": str(self.path),
            "csv_sha256": digest,
            "exported_by": (self.info or {}).get("versions", {}).get("faceedit-bench"),
        }


def load_externals(
    entries: Sequence[str],
    protocol_json: dict[str, Any],
    resolution: int,
    n_pairs: int | None,
    taken: Sequence[str] = (),
) -> dict[str, Editor]:
    """``--external NAME=CSV`` entries -> replaying editors, checked against the run's protocol."""
    out: dict[str, Editor] = {}
    for name, path in parse_externals(entries).items():
        if name in taken:
            raise ManifestError(f"--external {name}={path}: name {name!r} is already an editor of this run")
        editor = ExternalEdits(path, name, resolution, n_rows=n_pairs)
        editor.check_protocol(protocol_json)
        out[name] = editor
    return out
