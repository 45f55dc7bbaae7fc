"""Examples name the checkpoint file that `train` writes (checkpoint.pt), never another."""

from __future__ import annotations

import re
from pathlib import Path

import faceedit_bench

ROOT = Path(faceedit_bench.__file__).resolve().parent.parent
WRITTEN = "checkpoint.pt"  # training/loop.py: out / "checkpoint.pt"


def test_readme_docs_and_help_examples_use_the_written_checkpoint_name() -> None:
    files = [
        ROOT / "README.md",
        *sorted((ROOT / "docs").glob("*.md")),
        *sorted(ROOT.glob("faceedit_bench/**/*.py")),
    ]
    loop = (ROOT / "faceedit_bench" / "training" / "loop.py").read_text(encoding="utf-8")
    assert f'"{WRITTEN}"' in loop
    wrong = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in files
        if path.is_file()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\blast\.pt\b", line)
    ]
    assert not wrong, f"examples name last.pt, which train does not write: {wrong}"
