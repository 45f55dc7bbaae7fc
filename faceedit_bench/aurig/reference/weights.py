"""Where the AU-rig judges' weights live, their JSON records, and how a network is built and loaded.

The shipped weights are in the assets tree (``faceedit_bench/assets/judges/aurig-reference``,
see :mod:`faceedit_bench.shipped`); a one-off retrain goes to the cache (:mod:`.backends`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from faceedit_bench.aurig.reference.models import AURegressor
from faceedit_bench.aurig.reference.models_alt import AURegressorGN
from faceedit_bench.aurig.reference.probe import probe_mismatch
from faceedit_bench.safe_load import load_tensors
from faceedit_bench.shipped import asset_dir

WEIGHTS_DIR = asset_dir("judges") / "aurig-reference"
IDENTITY_WEIGHTS = "identity_encoder"  # the identity judge's file stem


def read_record(folder: Path, name: str) -> dict[str, Any] | None:
    path = folder / f"{name}.json"
    if not path.exists() or not (folder / f"{name}.pt").exists():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None


def checked_record(folder: Path, name: str, fix: str = "retrain them") -> dict[str, Any]:
    """``name``'s record in ``folder`` when its weights fit the current code, else an error naming the file."""
    record = read_record(folder, name)
    if record is None:
        raise FileNotFoundError(f"{folder}: no {name}.pt with its {name}.json record")
    why = probe_mismatch(folder, record)
    if why is not None:
        raise ValueError(
            f"{folder / (name + '.json')}: the weights do not fit the current code ({why}); {fix}"
        )
    return record


def load_weights(model: torch.nn.Module, path: Path) -> torch.nn.Module:
    """``model`` with the state dict saved in ``path``, in eval mode; errors name the file."""
    try:
        model.load_state_dict(load_tensors(path, f"{type(model).__name__} weights"))
    except (RuntimeError, KeyError) as err:
        raise ValueError(f"{path}: cannot load {type(model).__name__} weights ({err})") from None
    return model.eval()


def architecture(record: dict[str, Any]) -> dict[str, int]:
    """Architecture arguments recorded with the weights (defaults if none)."""
    cfg = record.get("config", {})
    return {"width": int(cfg.get("width", 32)), "embed_dim": int(cfg.get("embed_dim", 64))}


def build_model(arch: str, width: int) -> torch.nn.Module:
    """The untrained AU regressor of architecture ``arch``."""
    if arch == "plain":
        return AURegressor(width)
    if arch == "gn":
        return AURegressorGN(width)
    raise ValueError(f"--arch must be 'plain' or 'gn', got {arch!r}")
