"""Renderer probe: a fixed batch of reference-pool renders that the shipped weights were trained on.

The reference weights stay valid as long as the current renderer reproduces this
probe to within one grey level (1/255) and the reference-network sources are the
same (:func:`faceedit_bench.aurig.version.reference_code_hash`): a faster renderer
that draws the same images needs no retraining. The probe is the first
``PROBE_IDS x PROBE_PER_ID`` images of the training pool (same identities, same
realistic and independent AU samplers) at ``PROBE_RES`` px, quantised to uint8.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import torch

from faceedit_bench.aurig.version import reference_code_hash
from faceedit_bench.safe_load import load_tensors

PROBE_FILE = "renderer_probe.pt"
PROBE_IDS, PROBE_PER_ID, PROBE_RES, PROBE_SEED = 2, 8, 32, 0
PROBE_TOL = 1  # grey levels (uint8): the 1/255 tolerance


def render_probe() -> torch.Tensor:
    """(16, 3, 32, 32) uint8 renders of the probe with the current code."""
    from faceedit_bench.aurig.reference.data import render_pool

    return render_pool(PROBE_IDS, PROBE_PER_ID, PROBE_SEED, res=PROBE_RES).images


def probe_digest(probe: torch.Tensor) -> str:
    """Short sha256 of the probe's bytes."""
    return hashlib.sha256(probe.contiguous().numpy().tobytes()).hexdigest()[:16]


@lru_cache(maxsize=1)
def current_probe() -> torch.Tensor:
    """The probe as the current renderer draws it (rendered once per process)."""
    return render_probe()


def reference_key() -> str:
    """Version of the weights the current code would train: network sources plus probe digest."""
    both = reference_code_hash() + probe_digest(current_probe())
    return hashlib.sha256(both.encode()).hexdigest()[:16]


def probe_record(folder: Path) -> dict[str, object]:
    """Save the current probe into ``folder``; returns what the JSON records keep of it."""
    from faceedit_bench.io import torch_save_atomic

    probe = current_probe()
    torch_save_atomic(probe, folder / PROBE_FILE)
    return {
        "file": PROBE_FILE,
        "sha256_16": probe_digest(probe),
        "ids": PROBE_IDS,
        "per_id": PROBE_PER_ID,
        "res": PROBE_RES,
        "seed": PROBE_SEED,
        "tolerance_uint8": PROBE_TOL,
    }


def probe_mismatch(folder: Path, record: dict[str, object]) -> str | None:
    """Why ``record``'s weights in ``folder`` do not fit the current code, or None if they do."""
    if record.get("reference_code") != reference_code_hash():
        return f"reference-network code {record.get('reference_code')} != {reference_code_hash()}"
    meta = record.get("renderer_probe")
    path = folder / PROBE_FILE
    if not isinstance(meta, dict) or not path.exists():
        return "no renderer probe recorded"
    stored = load_tensors(path, "renderer probe")
    if probe_digest(stored) != meta.get("sha256_16"):
        return f"{path}: does not match its recorded digest"
    now = current_probe()
    if stored.shape != now.shape:
        return f"renderer probe shape {tuple(stored.shape)} != {tuple(now.shape)}"
    diff = int((stored.int() - now.int()).abs().max())
    if diff > PROBE_TOL:
        return f"renderer output changed: probe differs by up to {diff}/255"
    return None
