"""Your own editor in the harness: a plain callable, an ``Editor``, a ``module:attr`` or an entry point.

Everything goes through the one editor registry (:data:`faceedit_bench.plugins.editors`):

* :func:`register_editor` registers an ``Editor`` subclass, an instance, or any callable
  ``(images, target_aus) -> images`` under a name; registering the same name again
  replaces your earlier entry (a re-run notebook cell), never a built-in one;
* :func:`register_spec` turns ``module:attr`` or ``NAME=module:attr`` (CLI ``--editors``)
  into a lazy registry entry;
* installed packages' entry points in the group ``faceedit_bench.editors``
  (``name = "module:attr"``) are registered by :mod:`faceedit_bench.plugins` on import.

A callable's output is checked on every batch (:func:`check_edit_output`), so a wrong
return value fails with a message naming the editor and what it returned.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import torch

from faceedit_bench import plugins
from faceedit_bench.api.editor import Editor, EditOutput, create_editor
from faceedit_bench.registry import RegistryError

_SPEC_RE = re.compile(r"^(?:(?P<name>[^=]+)=)?(?P<target>[A-Za-z_][\w.]*:[A-Za-z_][\w.]*)$")

EditFn = Callable[[torch.Tensor, torch.Tensor], Any]


class EditorOutputError(TypeError):
    """A user editor returned something that is not an image batch of the input's shape."""


def check_edit_output(out: Any, images: torch.Tensor, name: str) -> EditOutput:
    """Accept an ``EditOutput``, a tensor or a numpy array shaped like ``images``; else a clear error."""
    expected = f"a torch.Tensor of shape {tuple(images.shape)} with values in [0, 1] (or an EditOutput)"
    result = out if isinstance(out, EditOutput) else None
    edited = result.images if result is not None else out
    if not isinstance(edited, torch.Tensor):
        try:
            import numpy as np
        except ImportError:  # pragma: no cover - numpy is a dependency
            np = None  # type: ignore[assignment]
        if np is not None and isinstance(edited, np.ndarray):
            edited = torch.from_numpy(np.ascontiguousarray(edited))
        else:
            raise EditorOutputError(f"editor {name!r} returned {type(edited).__name__}; expected {expected}")
    if tuple(edited.shape) != tuple(images.shape):
        raise EditorOutputError(f"editor {name!r} returned shape {tuple(edited.shape)}; expected {expected}")
    if edited.dtype == torch.uint8:
        edited = edited.float() / 255.0
    if not edited.is_floating_point():
        raise EditorOutputError(f"editor {name!r} returned dtype {edited.dtype}; expected {expected}")
    if not torch.isfinite(edited).all():
        raise EditorOutputError(f"editor {name!r} returned NaN or infinite pixels")
    edited = edited.to(images.device, torch.float32)  # the harness guard refuses values outside [0, 1]
    if result is not None:
        result.images = edited
        return result
    return EditOutput(images=edited)


class CallableEditor(Editor):
    """Any ``fn(images, target_aus) -> images`` (0-5 AUs, ``(N, 3, H, W)`` in [0, 1]) as an Editor."""

    def __init__(self, fn: EditFn, name: str = "mine") -> None:
        if not callable(fn):
            raise TypeError(
                f"editor {name!r}: expected a callable (images, target_aus) -> images, got {fn!r}"
            )
        self.fn = fn
        self.name = name

    def edit(self, images: torch.Tensor, target_aus: torch.Tensor) -> EditOutput:
        return check_edit_output(self.fn(images, target_aus), images, self.name)

    def describe(self) -> dict[str, object]:
        fn = self.fn
        return {
            "class": "callable",
            "callable": f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', type(fn).__name__)}",
        }


class _CheckedEditor(Editor):
    """Wraps a user ``Editor`` so its outputs are checked like a callable's."""

    def __init__(self, inner: Editor, name: str) -> None:
        self.inner, self.name = inner, name
        for flag in ("free_edits", "is_reference", "needs_ground_truth"):
            setattr(self, flag, getattr(inner, flag))

    def edit(self, images: torch.Tensor, target_aus: torch.Tensor) -> EditOutput:
        return check_edit_output(self.inner.edit(images, target_aus), images, self.name)

    def edit_batch(self, batch: Any) -> EditOutput:
        return check_edit_output(self.inner.edit_batch(batch), batch.source, self.name)

    def to(self, device: torch.device | str) -> Editor:
        self.inner = self.inner.to(device)
        return self

    def __getattr__(self, attr: str) -> Any:  # anything else the user's editor exposes
        if attr == "inner":
            raise AttributeError(attr)
        return getattr(self.inner, attr)

    def describe(self) -> dict[str, object]:
        return self.inner.describe()


def as_editor(obj: Any, name: str) -> Editor:
    """An ``Editor`` instance, or a callable wrapped as one (outputs checked)."""
    if isinstance(obj, Editor):
        return obj if type(obj).__module__.startswith("faceedit_bench.") else _CheckedEditor(obj, name)
    if isinstance(obj, type):
        raise TypeError(
            f"editor {name!r}: got the class {obj.__name__}; pass an instance, or register the class"
        )
    return CallableEditor(obj, name)


def resolve_editor(name: str) -> Any:
    """``plugins.editors.get(name)``; a user's ``module:attr`` that cannot be imported is a
    :class:`RegistryError` naming the editor, where it was declared and what is missing."""
    try:
        return plugins.editors.get(name)
    except (ImportError, AttributeError) as err:
        meta = plugins.editors.meta(name) if name in plugins.editors else {}
        target = meta.get("target") or "?"
        where = (
            f"entry point {meta['entry_point']}" if meta.get("entry_point") else f"--editors {name}={target}"
        )
        if isinstance(err, ModuleNotFoundError) and err.name == target.split(":", 1)[0]:
            why = f"no module named {err.name!r} (is it installed, or on PYTHONPATH?)"
        elif isinstance(err, ImportError):
            why = f"importing {target.split(':', 1)[0]!r} failed: {err}"
        else:
            why = f"{err}"
        raise RegistryError(f"editor {name!r} ({where}): {why}") from None


def build_registered_editor(
    name: str, *, checkpoint: str | None, resolution: int, device: str, checkpoint_set: str | None
) -> Editor:
    """Instantiate registry entry ``name``: an Editor class, an instance or a callable."""
    obj = resolve_editor(name)
    if isinstance(obj, type) and issubclass(obj, Editor):
        editor = create_editor(
            obj, checkpoint=checkpoint, resolution=resolution, device=device, checkpoint_set=checkpoint_set
        )
        return as_editor(editor, name)
    if isinstance(obj, type):
        raise RegistryError(f"editor {name!r} -> {obj.__name__} is not a faceedit_bench Editor subclass")
    return as_editor(obj, name)


def register_editor(name: str, editor: Any, *, help: str = "") -> None:
    """Register your editor (class, instance or callable) under ``name``, usable by ``--editors``.

    Registering ``name`` again replaces your earlier entry; built-in names are refused.
    """
    if name in plugins.editors and not plugins.editors.meta(name).get("user"):
        raise RegistryError(f"editor {name!r} is a built-in editor; choose another name")
    plugins.editors.register(name, editor, replace=True, group="external", user=True, help=help)


def register_spec(spec: str) -> str:
    """``NAME=module:attr`` or ``module:attr`` -> a registered editor name; other strings pass through."""
    m = _SPEC_RE.match(spec)
    if m is None:
        return spec
    target = m["target"]
    name = m["name"] or re.sub(r"[^a-z0-9_.-]+", "-", target.rsplit(":", 1)[1].lower()).strip("-")
    if name in plugins.editors:
        if plugins.editors.meta(name).get("target") == target:
            return name
        if not plugins.editors.meta(name).get("user"):
            raise RegistryError(
                f"--editors {spec}: {name!r} is a built-in editor; name yours with NAME={target}"
            )
    plugins.editors.register(
        name, target, replace=True, group="external", user=True, target=target, help=f"user editor {target}"
    )
    return name
