"""Resumable training checkpoints and the small weights-only files editors ship with.

A training checkpoint holds everything needed to continue bit-for-bit: generator,
critic, both optimisers, the data/noise generator state, torch's global RNG state,
the planned step count and elapsed wall time. Files are written atomically.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import torch

from faceedit_bench import __version__
from faceedit_bench.io import torch_save_atomic

FORMAT = "faceedit-bench-train/1"
WEIGHTS_FORMAT = "faceedit-bench-editor/1"
_META_KEYS = ("editor", "spec", "resolution", "config", "step", "seed", "code_version", "final_metrics")


def code_version() -> str:
    """``<package version>+g<git hash>[.dirty]`` when in a git checkout, else the version."""
    root = Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "faceedit_bench", "baselines"],
            cwd=root, capture_output=True, text=True, timeout=20, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__}+g{sha}{'.dirty' if dirty else ''}"


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    torch_save_atomic({"format": FORMAT, **state}, path)


def load_checkpoint(path: Path) -> dict[str, Any]:
    state = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"{path} is not a faceedit-bench training checkpoint")
    return state


def export_weights(checkpoint: Path, dest: Path, half: bool = True) -> dict[str, Any]:
    """Write the generator-only file an editor loads (fp16 tensors when ``half``)."""
    state = load_checkpoint(checkpoint)
    weights = {
        k: (v.half() if half and v.is_floating_point() else v).clone() for k, v in state["generator"].items()
    }
    out = {"format": WEIGHTS_FORMAT, **{k: state.get(k) for k in _META_KEYS}, "generator": weights}
    torch_save_atomic(out, dest)
    return out
