"""Counter-based random numbers for AU-rig: a value depends only on (key, counter).

Every identity, sample and pair is addressed by a 64-bit key, and its random draws
are ``splitmix64(key, counter)`` (Steele, Lea & Flood, "Fast splittable pseudorandom
number generators", OOPSLA 2014). This makes rendering independent of batch
composition and order, and vectorises over a whole batch in numpy.
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)

SPLITS: dict[str, int] = {"train": 1, "val": 2, "test": 3, "reference": 4}

# Streams keep the draws of different purposes independent for one key.
STREAM_IDENTITY = 1
STREAM_SAMPLE_AUS = 2
STREAM_PAIRS = 3


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser applied elementwise to ``uint64`` values (wrapping)."""
    with np.errstate(over="ignore"):
        z = np.asarray(x, dtype=np.uint64) + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def mix(*parts: np.ndarray | int) -> np.ndarray:
    """Hash several integers (arrays broadcast) into one 64-bit key."""
    out = np.zeros((), dtype=np.uint64)
    for p in parts:
        out = splitmix64(out ^ np.asarray(p, dtype=np.int64).astype(np.uint64))
    return out


def uniforms(keys: np.ndarray, n: int, stream: int) -> np.ndarray:
    """``(len(keys), n)`` float64 uniforms in [0, 1) from ``keys`` for one ``stream``."""
    keys = np.asarray(keys, dtype=np.uint64).reshape(-1, 1)
    counters = splitmix64(np.arange(n, dtype=np.uint64) + np.uint64(stream) * np.uint64(0x100000001))
    bits = splitmix64(keys ^ counters[None, :])
    return (bits >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def split_code(split: str) -> int:
    if split not in SPLITS:
        raise ValueError(f"unknown AU-rig split {split!r}; known: {', '.join(SPLITS)}")
    return SPLITS[split]


def identity_keys(split: str, seed: int, indices: np.ndarray) -> np.ndarray:
    """64-bit identity keys: split code in the top byte, so splits never share an identity."""
    indices = np.asarray(indices, dtype=np.int64)
    if indices.size and (indices.min() < 0 or indices.max() >= 1 << 32):
        raise ValueError("identity indices must lie in [0, 2**32)")
    if not 0 <= seed < 1 << 24:
        raise ValueError(f"AU-rig seed must lie in [0, 2**24), got {seed}")
    code = np.uint64(split_code(split)) << np.uint64(56)
    return code | (np.uint64(seed) << np.uint64(32)) | indices.astype(np.uint64)
