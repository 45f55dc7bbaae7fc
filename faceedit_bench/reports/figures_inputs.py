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
        return _load_npz(self.artifacts / "qualitative.npz", ("source", "target_aus", "editors"))

    @cached_property
    def sweeps(self) -> dict[str, np.ndarray]:
        return _load_npz(self.artifacts / "sweeps.npz", ("source", "aus", "intensities", "editors"))

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
