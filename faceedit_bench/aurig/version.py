"""Code versions of AU-rig: hashes of the source files that define its images."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent
RENDERER_FILES = (
    "rng.py",
    "identity.py",
    "deform.py",
    "face.py",
    "landmarks.py",
    "render.py",
    "expressions.py",
)


def _hash_files(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


@lru_cache(maxsize=1)
def renderer_hash() -> str:
    """Changes whenever the renderer, its parameters or the AU distribution change."""
    return _hash_files([_HERE / f for f in RENDERER_FILES])


@lru_cache(maxsize=1)
def dataset_hash() -> str:
    """Renderer plus sampling and pair recipes: goes into every AU-rig ``cache_key()``."""
    data = _hash_files([_HERE / "dataset.py", _HERE / "pairs.py"])
    return hashlib.sha256((renderer_hash() + data).encode()).hexdigest()[:16]


@lru_cache(maxsize=1)
def reference_hash() -> str:
    """Renderer plus reference-network source: the version of the shipped weights."""
    ref = sorted((_HERE / "reference").glob("*.py"))
    ref = [p for p in ref if p.name != "backends.py"]
    return hashlib.sha256((renderer_hash() + _hash_files(ref)).encode()).hexdigest()[:16]
