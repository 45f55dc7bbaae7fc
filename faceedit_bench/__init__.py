"""faceedit-bench: train, compare and report AU-conditioned facial-expression editors.

Public API (imported on first use, so ``import faceedit_bench`` stays light)::

    import faceedit_bench as fb
    res = fb.evaluate(my_fn, protocol="aurig-smoke")   # my_fn(images, target_aus) -> images
    res.to_pandas(); res.save("runs/mine")

``evaluate``, ``load``, ``Results``, ``EditorFailed``, ``export``, ``register_editor``
(:mod:`faceedit_bench.public_api`) and the contracts ``Editor`` and ``EditOutput``.
"""

from __future__ import annotations

from typing import Any

from faceedit_bench.version import __version__

_PUBLIC = {
    "evaluate": "faceedit_bench.public_api",
    "load": "faceedit_bench.public_api",
    "Results": "faceedit_bench.public_api",
    "EditorFailed": "faceedit_bench.public_api",
    "export": "faceedit_bench.public_api",
    "register_editor": "faceedit_bench.public_api",
    "Editor": "faceedit_bench.api.editor",
    "EditOutput": "faceedit_bench.api.editor",
}
__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'faceedit_bench' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_PUBLIC[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])
