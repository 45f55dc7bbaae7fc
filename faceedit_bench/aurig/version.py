"""Code versions of AU-rig: hashes of the source files that define its images and reference networks."""

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


REFERENCE_FILES = ("models.py", "train.py", "data.py")


@lru_cache(maxsize=1)
def reference_code_hash() -> str:
    """Reference-network and training sources: with the renderer probe, the validity key of the weights.

    The renderer itself is not hashed here: ``reference.probe`` checks its output instead;
    nor is ``reference/evaluate.py``: evaluation does not change the weights.
    """
    return _hash_files([_HERE / "reference" / f for f in REFERENCE_FILES])
