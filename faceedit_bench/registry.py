"""One generic registry class for every plugin kind.

Follows the shape of lm-evaluation-harness' ``lm_eval/api/registry.py``: names map
to objects or to lazy ``"module:attr"`` strings (so heavy backends import only when
used), aliases resolve to a canonical name, duplicates are an error, and an unknown
name fails with the known names and a "did you mean" hint.
"""

from __future__ import annotations

import difflib
import importlib
import re
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")


class RegistryError(KeyError):
    """Raised for unknown, duplicate or malformed plugin names."""

    def __str__(self) -> str:  # KeyError quotes its message; we want plain text
        return str(self.args[0]) if self.args else ""


class Registry(Generic[T]):
    """Maps validated names (they become file names) to plugins of one kind."""

    def __init__(self, kind: str, base: type | None = None) -> None:
        self.kind = kind
        self.base = base
        self._entries: dict[str, T | str] = {}
        self._aliases: dict[str, str] = {}
        self._meta: dict[str, dict[str, Any]] = {}

    def register(
        self,
        name: str,
        obj: T | str,
        *,
        aliases: tuple[str, ...] = (),
        replace: bool = False,
        **meta: Any,
    ) -> T | str:
        """Register ``obj`` (or a lazy ``"module:attr"``) under ``name``.

        ``replace=True`` swaps the entry already registered under ``name`` (re-running a
        notebook cell); it never takes over another entry's alias.
        """
        replaced = name if replace and name in self._entries else None
        for key in (name, *aliases):
            if not _NAME_RE.match(key):
                raise RegistryError(
                    f"invalid {self.kind} name {key!r}: use lower-case letters, digits, '_', '-', '.'"
                )
            taken = key in self._entries or key in self._aliases
            if taken and (replaced is None or replaced not in (key, self._aliases.get(key))):
                raise RegistryError(f"{self.kind} {key!r} is already registered")
        if isinstance(obj, str) and ":" not in obj:
            raise RegistryError(f"lazy {self.kind} entry {obj!r} must look like 'module:attr'")
        if replaced is not None:
            self.unregister(replaced)
        self._entries[name] = obj
        self._meta[name] = dict(meta)
        for alias in aliases:
            self._aliases[alias] = name
        return obj

    def unregister(self, name: str) -> None:
        """Remove ``name`` (not an alias) and its aliases."""
        if name not in self._entries:
            raise RegistryError(f"{self.kind} {name!r} is not registered (aliases cannot be removed alone)")
        del self._entries[name], self._meta[name]
        self._aliases = {a: n for a, n in self._aliases.items() if n != name}

    def canonical(self, name: str) -> str:
        """The registered name that ``name`` (a name or an alias) refers to."""
        if name in self._entries:
            return name
        if name in self._aliases:
            return self._aliases[name]
        known = sorted([*self._entries, *self._aliases])
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise RegistryError(f"unknown {self.kind} {name!r}.{hint} Known: {', '.join(known)}")

    def get(self, name: str) -> T:
        """Resolve ``name``, importing a lazy entry on first use."""
        key = self.canonical(name)
        obj = self._entries[key]
        if isinstance(obj, str):
            module_name, attr = obj.split(":", 1)
            loaded = getattr(importlib.import_module(module_name), attr)
            if self.base is not None and isinstance(loaded, type) and not issubclass(loaded, self.base):
                raise RegistryError(f"{self.kind} {key!r} -> {obj} is not a {self.base.__name__}")
            self._entries[key] = loaded
            obj = loaded
        return obj  # type: ignore[return-value]

    def meta(self, name: str) -> dict[str, Any]:
        """Metadata given at registration (e.g. a one-line description)."""
        return self._meta[self.canonical(name)]

    def names(self) -> list[str]:
        return sorted(self._entries)

    def aliases_of(self, name: str) -> list[str]:
        return sorted(a for a, n in self._aliases.items() if n == name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self._entries or name in self._aliases)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)
