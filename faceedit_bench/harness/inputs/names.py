"""Editor names in a run: seed replicates (``two-stage.s2``) and other systems' edits (``--external``).

Below :mod:`.config`, :mod:`.manifest` and :mod:`.seeds`, which all need these rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from faceedit_bench import plugins
from faceedit_bench.registry import _NAME_RE

SEP = ".s"  # replicate k of editor E is named E.s<k>


class ManifestError(ValueError):
    """The manifest or a file it names is unusable; the message says which and why."""


def base_name(name: str) -> str:
    """``two-stage.s2`` -> ``two-stage``; other names unchanged."""
    base, sep, k = name.rpartition(SEP)
    return base if sep and k.isdigit() else name


def check_external_name(name: str, option: str) -> None:
    """Refuse a built-in editor's name (or a seed replicate's, ``two-stage.s2``) for another system's
    edits: results, tables and ``merge`` would take its rows for the built-in editor's."""
    for candidate in dict.fromkeys((name, base_name(name))):
        if candidate in plugins.editors and not plugins.editors.meta(candidate).get("user"):
            raise ManifestError(
                f"{option}: {name!r} is the name of the built-in editor {candidate!r}; "
                "name the other system's edits otherwise (e.g. mine, theirs)"
            )


def parse_externals(entries: Sequence[str]) -> dict[str, Path]:
    """``["mine=edits.csv", ...]`` -> ``{"mine": Path("edits.csv")}``."""
    out: dict[str, Path] = {}
    for entry in entries:
        name, sep, path = entry.partition("=")
        if not sep or not name or not path:
            raise ManifestError(f"--external {entry!r}: expected NAME=PAIRS.csv")
        if not _NAME_RE.match(name):
            raise ManifestError(
                f"--external {entry!r}: name {name!r} must use lower-case letters, digits, '_', '-', '.'"
            )
        if name in out:
            raise ManifestError(f"--external: name {name!r} given twice")
        check_external_name(name, f"--external {entry}")
        out[name] = Path(path).expanduser()
    return out
