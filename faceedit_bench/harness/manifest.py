"""Score edits made by any other system, described by a manifest CSV.

Columns: ``source`` (path), ``edited`` (path), the 17 target AUs (``AU01`` ... ``AU45``,
or OpenFace-style ``AU01_r``; 0-5), and optionally ``target`` (a ground-truth image
path) and ``id`` (sample id). Relative paths are relative to the manifest's folder.
Images of another size are centre-cropped to square and resized (bilinear,
antialiased) to the protocol resolution: the same rule for every image.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import pandas as pd
import torch
import torch.nn.functional as F

from faceedit_bench.api.aus import AU_MAX, AU_NAMES
from faceedit_bench.api.batch import PairBatch
from faceedit_bench.api.dataset import PairSet
from faceedit_bench.api.editor import Editor, EditOutput


class ManifestError(ValueError):
    """The manifest or a file it names is unusable; the message says which and why."""


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


class ManifestPairs(PairSet):
    """The pairs a manifest describes (ground truth when it has a ``target`` column)."""

    def __init__(self, manifest: str | Path, resolution: int) -> None:
        self.path = Path(manifest)
        if not self.path.is_file():
            raise ManifestError(f"{self.path}: manifest file not found")
        try:
            frame = pd.read_csv(self.path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
            raise ManifestError(f"{self.path}: not a readable CSV ({err})") from None
        for col in ("source", "edited"):
            if col not in frame.columns:
                raise ManifestError(f"{self.path}: missing column {col!r}")
        if frame.empty:
            raise ManifestError(f"{self.path}: no rows")
        aus = frame[_au_columns(frame, self.path)].apply(pd.to_numeric, errors="coerce")
        bad = aus.isna() | (aus < 0) | (aus > AU_MAX)
        if bad.to_numpy().any():
            row, col = next(zip(*bad.to_numpy().nonzero(), strict=True))
            raise ManifestError(
                f"{self.path}: row {row + 2}, column {aus.columns[col]}: AU value {frame.iloc[row][aus.columns[col]]!r}"
                f" is not a number in [0, {AU_MAX:g}]"
            )
        base = self.path.parent
        self.rows = frame
        self.resolution = resolution
        self.target_aus = torch.tensor(aus.to_numpy(), dtype=torch.float32)
        self.has_ground_truth = "target" in frame.columns
        self.ids = (
            [str(v) for v in frame["id"]]
            if "id" in frame.columns
            else [f"row{i + 2}" for i in range(len(frame))]
        )
        if len(set(self.ids)) != len(self.ids):
            raise ManifestError(f"{self.path}: duplicated ids in column 'id'")
        columns = ("source", "edited", "target") if self.has_ground_truth else ("source", "edited")
        self.files: dict[str, list[Path]] = {}
        for col in columns:
            paths = [p if p.is_absolute() else base / p for p in (Path(str(v)) for v in frame[col])]
            for i, p in enumerate(paths):
                if not p.is_file():
                    raise ManifestError(f"{self.path}: row {i + 2}: {col} file {p} does not exist")
            self.files[col] = paths

    def __len__(self) -> int:
        return len(self.rows)

    def cache_key(self) -> str:
        digest = hashlib.sha256(self.path.read_bytes()).hexdigest()[:16]
        return f"manifest-{digest}-{self.resolution}"

    def load(self, column: str, indices: Sequence[int]) -> torch.Tensor:
        from faceedit_bench.data.images import read_image

        return torch.stack(
            [fit_to_resolution(read_image(self.files[column][i]), self.resolution) for i in indices]
        )

    def batch(self, indices: Sequence[int]) -> PairBatch:
        idx = list(indices)
        return PairBatch(
            source=self.load("source", idx),
            target_aus=self.target_aus[idx],
            sample_ids=[self.ids[i] for i in idx],
            target_image=self.load("target", idx) if self.has_ground_truth else None,
        )


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
