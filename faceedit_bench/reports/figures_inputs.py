"""The inputs of the report figures, read lazily from a run directory.

Each figure asks for the files it needs; an absent file raises :class:`SkipFigure`
with the reason (the figure is skipped, not an error), a malformed one raises
``ValueError`` naming the file.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from faceedit_bench.io import read_jsonl
from faceedit_bench.reports.results import load_results, results_path

# array name (or prefix ending in "__") -> expected layout; "K" = pairs, "C3"/"C1"/"2" fixed sizes
QUALITATIVE_SHAPES = {
    "source": "K,3,H,W", "target": "K,3,H,W", "edited__": "K,3,H,W", "warped__": "K,3,H,W",
    "flow__": "K,H,W,2", "mask__": "K,1,H,W", "target_aus": "K,17", "source_aus": "K,17",
}  # fmt: skip
SWEEP_SHAPES = {"source": "S,3,H,W", "edited__": "S,T,3,H,W", "intensities": "T"}


class SkipFigure(Exception):
    """A figure's inputs are absent; the message says which."""


@dataclass
class RunInputs:
    """Lazy access to ``results.json``, ``samples.jsonl`` and ``artifacts/`` of one run."""

    run_dir: Path
    results: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.run_dir = results_path(self.run_dir).parent
        self.results = load_results(self.run_dir)

    @property
    def artifacts(self) -> Path:
        return self.run_dir / "artifacts"

    @cached_property
    def qualitative(self) -> dict[str, np.ndarray]:
        path = self.artifacts / "qualitative.npz"
        data = _load_npz(path, ("source", "target_aus", "editors"))
        check_shapes(path, data, QUALITATIVE_SHAPES)
        return data

    @cached_property
    def sweeps(self) -> dict[str, np.ndarray]:
        path = self.artifacts / "sweeps.npz"
        data = _load_npz(path, ("source", "aus", "intensities", "editors"))
        check_shapes(path, data, SWEEP_SHAPES)
        return data

    @cached_property
    def samples(self) -> list[dict[str, Any]]:
        path = self.run_dir / "samples.jsonl"
        if not path.exists():
            raise SkipFigure(f"{path} not found")
        rows = read_jsonl(path)
        for i, row in enumerate(rows):
            if not isinstance(row.get("editor"), str) or not isinstance(row.get("values"), dict):
                raise ValueError(f"{path}: line {i + 1} needs 'editor' (string) and 'values' (object)")
        return rows

    @cached_property
    def training(self) -> dict[str, list[dict[str, Any]]]:
        folder = self.artifacts / "training"
        files = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
        if not files:
            raise SkipFigure(f"no training logs in {folder}")
        return {f.stem: read_jsonl(f) for f in files}

    def group(self, editor: str) -> str:
        """The editor's group from results.json ("reference", "two-stage", "baseline"; "" if unknown)."""
        entry = self.results["editors"].get(editor)
        return entry["group"] if entry else ""

    def reference_editors(self) -> list[str]:
        return [n for n, e in self.results["editors"].items() if e["group"] == "reference"]


def _load_npz(path: Path, required: tuple[str, ...]) -> dict[str, np.ndarray]:
    if not path.exists():
        raise SkipFigure(f"{path} not found")
    try:
        with np.load(path, allow_pickle=False) as npz:
            data = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise ValueError(f"{path}: not a readable .npz file ({err})") from None
    missing = [k for k in required if k not in data]
    if missing:
        raise ValueError(f"{path}: missing array(s) {', '.join(missing)}")
    data["editors"] = np.asarray([str(e) for e in data["editors"]])
    return data


def hwc(image: np.ndarray) -> np.ndarray:
    """(3, H, W) uint8 image (the artifacts' layout) -> (H, W, 3) for ``imshow``."""
    if image.ndim != 3 or image.shape[0] != 3:
        raise ValueError(f"expected one image of shape (3, H, W), got {image.shape}")
    return np.transpose(image, (1, 2, 0))


def check_shapes(path: Path, data: dict[str, np.ndarray], layouts: dict[str, str]) -> None:
    """Check every array against its layout; letters must agree across arrays (e.g. one K)."""
    sizes: dict[str, int] = {}
    for name, arr in data.items():
        layout = layouts.get(name) or next(
            (v for k, v in layouts.items() if k.endswith("__") and name.startswith(k)), None
        )
        if layout is None:
            continue
        dims = layout.split(",")
        if arr.ndim != len(dims):
            raise ValueError(f"{path}: array {name!r} has shape {arr.shape}, expected ({layout})")
        for dim, size in zip(dims, arr.shape, strict=True):
            if dim.isdigit():
                if size != int(dim):
                    raise ValueError(f"{path}: array {name!r} has shape {arr.shape}, expected ({layout})")
            elif sizes.setdefault(dim, size) != size:
                raise ValueError(
                    f"{path}: array {name!r} has {dim}={size}, other arrays have {dim}={sizes[dim]}"
                )
