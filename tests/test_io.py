"""Atomic writes leave files with the user's umask, like a plain open()."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from faceedit_bench.io import append_jsonl, current_umask, write_json_atomic, write_text_atomic


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_written_files_follow_the_umask(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        assert current_umask() == umask
        write_text_atomic(tmp_path / "a.txt", "x")
        write_json_atomic(tmp_path / "r" / "results.json", {"a": 1})
        append_jsonl(tmp_path / "s.jsonl", {"a": 1})
        with open(tmp_path / "plain.txt", "w") as f:
            f.write("x")
    finally:
        os.umask(old)
    expected = stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode)
    assert expected == 0o666 & ~umask
    for path in (tmp_path / "a.txt", tmp_path / "r" / "results.json", tmp_path / "s.jsonl"):
        assert stat.S_IMODE(path.stat().st_mode) == expected, path
    assert not list(tmp_path.rglob("*.tmp"))
