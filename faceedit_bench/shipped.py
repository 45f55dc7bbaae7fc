"""The shipped weights: one assets tree, one manifest, one check every load goes through.

Every weight file the toolkit ships lives under ``faceedit_bench/assets/``::

    editors/<set>/<editor>.pt (+ .json record)   trained editors (``aurig-64``, ``video-64``, seeds)
    critics/<dataset>-<res>.pt                     pre-trained critics (AU heads) of the recipes
    motions/<dataset>-<res>[-<editor>].pt          pre-trained motion steps of the recipes
    judges/aurig-reference/*.pt (+ .json)          the AU-rig judges and their renderer probe
    logs/editors/<set>/<editor>.metrics.jsonl      the editors' training logs (data, not code)
    manifest.json                                   name, sha256, bytes, kind, recipe, command, date

:func:`verify_shipped` is called by :func:`faceedit_bench.safe_load.load_tensors` (and
the judges' loader) on every file inside the tree: a weight file whose bytes differ from
the manifest is refused with an error naming it, so a retrain that was not recorded, a
truncated download or a planted file never judges or edits silently. After shipping new
weights, rebuild the manifest: ``python -m faceedit_bench.shipped --write``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from faceedit_bench.io import sha256_file, write_json_atomic

ASSETS = Path(__file__).resolve().parent / "assets"
MANIFEST = ASSETS / "manifest.json"
KINDS = ("editors", "critics", "motions", "judges", "logs")
WEIGHT_SUFFIXES = (".pt", ".safetensors", ".npz")
REBUILD = "python -m faceedit_bench.shipped --write"


class ShippedFileError(ValueError):
    """A file in the assets tree that the manifest does not vouch for."""


def asset_dir(kind: str) -> Path:
    """The folder of one kind of shipped file (``editors``, ``critics``, ``motions``, ``judges``, ``logs``)."""
    if kind not in KINDS:
        raise ValueError(f"unknown asset kind {kind!r}; known: {', '.join(KINDS)}")
    return ASSETS / kind


def training_log(checkpoint: Path) -> Path:
    """Where the training log of a shipped editor checkpoint lives (``logs/editors/<set>/<stem>.metrics.jsonl``)."""
    relative = checkpoint.resolve().relative_to(asset_dir("editors"))
    return asset_dir("logs") / "editors" / relative.parent / f"{checkpoint.stem}.metrics.jsonl"


def find_shipped(sha256: str) -> Path | None:
    """The shipped file whose bytes have ``sha256`` (None when the tree has none)."""
    for name, entry in _manifest_files().items():
        if entry["sha256"] == sha256:
            return ASSETS / name
    return None


def is_shipped(path: str | Path) -> bool:
    """Whether ``path`` lies inside the assets tree."""
    return Path(path).resolve().is_relative_to(ASSETS)


@lru_cache(maxsize=1)
def _manifest_files() -> dict[str, dict[str, Any]]:
    try:
        manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ShippedFileError(
            f"{MANIFEST}: cannot read the assets manifest ({err}); rebuild: {REBUILD}"
        ) from None
    return {entry["name"]: entry for entry in manifest["files"]}


@lru_cache(maxsize=256)
def _verified(path: Path, size: int, mtime_ns: int) -> None:
    name = path.relative_to(ASSETS).as_posix()
    entry = _manifest_files().get(name)
    if entry is None:
        raise ShippedFileError(
            f"{path}: a shipped weight file the assets manifest does not list; rebuild: {REBUILD}"
        )
    if entry["bytes"] != size or entry["sha256"] != sha256_file(path):
        raise ShippedFileError(
            f"{path}: its bytes differ from the assets manifest (sha256 {entry['sha256'][:12]}...); "
            f"restore it from git, or after a deliberate retrain rebuild the manifest: {REBUILD}"
        )


def verify_shipped(path: str | Path) -> Path:
    """``path``, after checking it against the manifest when it is a shipped weight file (else unchanged)."""
    resolved = Path(path).resolve()
    if resolved.suffix in WEIGHT_SUFFIXES and resolved.is_relative_to(ASSETS) and resolved.is_file():
        stat = resolved.stat()
        _verified(resolved, stat.st_size, stat.st_mtime_ns)
    return Path(path)


# --- building the manifest (maintainers, after shipping weights) ------------------------


def _git_date(path: Path) -> str | None:
    """The day the file's content last changed in git (moves do not count)."""
    try:
        out = subprocess.run(
            ["git", "log", "-1", "--follow", "--diff-filter=AM", "--format=%cs", "--", str(path)],
            cwd=ASSETS, capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _pretrain_command(module: str, config: dict[str, Any]) -> str:
    """The pre-training command a ``critics/`` or ``motions/`` file records in its config."""
    options = []
    for key, value in config.items():
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            options.append(flag if value else "--no-" + flag[2:])
        elif value is not None and not isinstance(value, dict | list):
            options.append(f"{flag} {value}")
    return f"python -m faceedit_bench.training.{module} " + " ".join(options)


def _describe(path: Path, kind: str) -> dict[str, Any]:
    """kind, recipe and command of one weight file, from its JSON record or its embedded config."""
    info: dict[str, Any] = {"kind": kind, "recipe": None, "command": None}
    record = path.with_suffix(".json")
    if record.is_file():
        data = json.loads(record.read_text(encoding="utf-8"))
        info["command"] = data.get("command")
        info["recipe"] = (data.get("config") or {}).get("recipe")
    elif kind in ("critics", "motions"):
        import torch  # the file is being vouched for, so it cannot go through the checked loader

        config = torch.load(path, map_location="cpu", weights_only=True).get("config") or {}
        info["recipe"] = config.get("recipe")
        module = "critic_pretrain" if kind == "critics" else "motion_pretrain"
        info["command"] = _pretrain_command(module, config)
    else:  # a file written beside recorded weights (the judges' renderer probe): their command wrote it
        siblings = sorted(path.parent.glob("*.json"))
        if siblings:
            info["command"] = json.loads(siblings[0].read_text(encoding="utf-8")).get("command")
    return info


def build_manifest(previous: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The manifest of the tree as it is now; dates of unchanged files are kept from ``previous``."""
    previous = previous or {}
    files = []
    for path in sorted(p for p in ASSETS.rglob("*") if p.is_file() and p != MANIFEST):
        name = path.relative_to(ASSETS).as_posix()
        kind = name.split("/", 1)[0]
        sha = sha256_file(path)
        entry: dict[str, Any] = {"name": name, "sha256": sha, "bytes": path.stat().st_size}
        if path.suffix in WEIGHT_SUFFIXES:
            entry.update(_describe(path, kind))
        old = previous.get(name, {})
        entry["date"] = old.get("date") if old.get("sha256") == sha else None
        entry["date"] = entry["date"] or _git_date(path) or dt.date.today().isoformat()
        files.append(entry)
    return {"format": "faceedit-bench-assets/1", "rebuild": REBUILD, "files": files}


def check_manifest() -> list[str]:
    """What differs between the tree and its manifest (empty when they agree)."""
    listed = _manifest_files()
    present = {
        p.relative_to(ASSETS).as_posix(): p for p in ASSETS.rglob("*") if p.is_file() and p != MANIFEST
    }
    problems = [f"{ASSETS / n}: in the manifest but missing" for n in sorted(set(listed) - set(present))]
    problems += [f"{present[n]}: not in the manifest" for n in sorted(set(present) - set(listed))]
    for name in sorted(set(listed) & set(present)):
        entry = listed[name]
        if entry["bytes"] != present[name].stat().st_size or entry["sha256"] != sha256_file(present[name]):
            problems.append(f"{present[name]}: bytes differ from the manifest")
    return problems


def rebuild_manifest() -> Path:
    """Rewrite the manifest from the tree as it is now (dates of unchanged files kept)."""
    previous = _manifest_files() if MANIFEST.is_file() else {}
    write_json_atomic(MANIFEST, build_manifest(previous))
    _manifest_files.cache_clear()
    return MANIFEST


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check or rebuild the shipped-weights manifest.")
    parser.add_argument("--write", action="store_true", help="rebuild faceedit_bench/assets/manifest.json")
    args = parser.parse_args(argv)
    if args.write:
        rebuild_manifest()
        print(f"{MANIFEST}: {len(_manifest_files())} files")
        return 0
    problems = check_manifest()
    print("\n".join(problems) or f"{MANIFEST}: every file matches")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
