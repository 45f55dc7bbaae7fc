"""Where caches and user-supplied weights live."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """``$FACEEDIT_BENCH_CACHE`` or ``$XDG_CACHE_HOME/faceedit-bench`` (``~/.cache``), created."""
    root = os.environ.get("FACEEDIT_BENCH_CACHE")
    if root is None:
        xdg = os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache"))
        root = str(Path(xdg) / "faceedit-bench")
    path = Path(root, *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def torch_home() -> Path:
    """The standard torch hub cache (``$TORCH_HOME`` or ``~/.cache/torch``)."""
    return Path(os.environ.get("TORCH_HOME", str(Path.home() / ".cache" / "torch")))


def user_weights(env_var: str) -> Path | None:
    """A weights path the user gave through ``env_var``, if set (checked to exist)."""
    value = os.environ.get(env_var)
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"{env_var}={value}: no such file")
    return path


def package_dirs(name: str) -> list[Path]:
    """The folders of installed package ``name``, found without importing it (empty if absent)."""
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return []
    return [Path(root) for root in spec.submodule_search_locations]
