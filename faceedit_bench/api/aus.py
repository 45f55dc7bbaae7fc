"""The 17-AU vocabulary (OpenFace / GANimation order), intensities 0-5 at every API."""

from __future__ import annotations

AU_NAMES: tuple[str, ...] = (
    "AU01", "AU02", "AU04", "AU05", "AU06", "AU07", "AU09", "AU10", "AU12",
    "AU14", "AU15", "AU17", "AU20", "AU23", "AU25", "AU26", "AU45",
)  # fmt: skip
N_AUS = len(AU_NAMES)
AU_MAX = 5.0  # models see intensities divided by this (GANimation convention)

AU_DESCRIPTIONS: dict[str, str] = {
    "AU01": "inner brow raiser",
    "AU02": "outer brow raiser",
    "AU04": "brow lowerer",
    "AU05": "upper lid raiser",
    "AU06": "cheek raiser",
    "AU07": "lid tightener",
    "AU09": "nose wrinkler",
    "AU10": "upper lip raiser",
    "AU12": "lip corner puller",
    "AU14": "dimpler",
    "AU15": "lip corner depressor",
    "AU17": "chin raiser",
    "AU20": "lip stretcher",
    "AU23": "lip tightener",
    "AU25": "lips part",
    "AU26": "jaw drop",
    "AU45": "blink",
}


def au_index(name: str) -> int:
    """Position of ``name`` (e.g. ``"AU12"`` or ``"12"``) in the vocabulary."""
    key = name if name.upper().startswith("AU") else f"AU{int(name):02d}"
    key = key.upper()
    if key not in AU_NAMES:
        raise ValueError(f"unknown action unit {name!r}; known: {', '.join(AU_NAMES)}")
    return AU_NAMES.index(key)
