"""AU intensity sweeps (one AU from 0 to 5) for the figures: ``artifacts/sweeps.npz``."""

from __future__ import annotations

import numpy as np
import torch

from faceedit_bench.api.aus import AU_NAMES, au_index
from faceedit_bench.api.dataset import PairSet
from faceedit_bench.api.editor import Editor

SWEEP_AUS = ("AU12", "AU25", "AU04", "AU01")
SWEEP_STEPS = 6
SWEEP_SOURCES = 2


def run_sweeps(pairs: PairSet, editors: dict[str, Editor], device: str) -> dict[str, np.ndarray]:
    """Edit the first sources with one AU set to 0..5 (others kept at the source's AUs)."""
    batch = pairs.batch(list(range(min(SWEEP_SOURCES, len(pairs))))).to(device)
    base = batch.source_aus if batch.source_aus is not None else torch.zeros_like(batch.target_aus)
    base = torch.nan_to_num(base, nan=0.0)
    intensities = torch.linspace(0, 5, SWEEP_STEPS)
    out: dict[str, np.ndarray] = {
        "source": (batch.source.clamp(0, 1) * 255).round().byte().cpu().numpy(),
        "aus": np.array(SWEEP_AUS),
        "intensities": intensities.numpy(),
        "editors": np.array(list(editors)),
        "au_vocabulary": np.array(AU_NAMES),
    }
    s = len(batch)
    for au in SWEEP_AUS:
        truth = pairs.true_edits(
            [i for i in range(s) for _ in range(SWEEP_STEPS)], _swept(base, au, intensities).cpu()
        )
        if truth is not None:
            arr = (truth.clamp(0, 1) * 255).round().byte().cpu().numpy()
            out[f"truth__{au}"] = arr.reshape(s, SWEEP_STEPS, *arr.shape[1:])
    for name, editor in editors.items():
        for au in SWEEP_AUS:
            aus = _swept(base, au, intensities)
            images = batch.source.repeat_interleave(SWEEP_STEPS, dim=0)
            try:
                with torch.no_grad():
                    edited = editor.edit(images, aus).images
            except Exception as err:  # a figure only: an editor that cannot sweep leaves its row out
                print(f"note: sweep of {name!r} on {au} not drawn ({type(err).__name__}: {err})")
                continue
            arr = (edited.clamp(0, 1) * 255).round().byte().cpu().numpy()
            out[f"edited__{name}__{au}"] = arr.reshape(s, SWEEP_STEPS, *arr.shape[1:])
    return out


def _swept(base: torch.Tensor, au: str, intensities: torch.Tensor) -> torch.Tensor:
    """Each row of ``base`` repeated once per intensity, with ``au`` set to that intensity."""
    aus = base.repeat_interleave(len(intensities), dim=0).clone()
    aus[:, au_index(au)] = intensities.repeat(len(base)).to(aus)
    return aus
