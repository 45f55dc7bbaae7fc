"""Issue 33 items 8-10: a user's mistakes and a full or read-only disk give a named error (exit 2),
never a traceback; a closed pipe ends quietly."""

from __future__ import annotations

import errno
import json
import os
import sys
from pathlib import Path

import pytest

from faceedit_bench.cli.main import main

FAST = ["--protocol", "tiny", "--no-figures", "--no-html", "--no-progress", "--no-judge-audit"]


def _full_disk_for(monkeypatch: pytest.MonkeyPatch, fragment: str) -> None:
    """Writes to files whose path holds ``fragment`` fail as on a full disk (at their fsync)."""
    real = os.fsync

    def fsync(fd: int) -> None:
        if fragment in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


def _error(capsys: pytest.CaptureFixture[str], command: str = "compare") -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"faceedit-bench {command}: error: " in err
    return err


def test_out_that_is_a_file_is_named(tmp_path: Path, capsys) -> None:
    target = tmp_path / "afile"
    target.write_text("mine")
    assert main(["compare", *FAST, "--out", str(target)]) == 2
    assert f"{target}: is a file, not a folder" in _error(capsys)
    assert target.read_text() == "mine"
    assert main(["compare", *FAST, "--out", str(target / "sub")]) == 2
    assert "choose another --out" in _error(capsys)


def test_read_only_out_is_named(tmp_path: Path, monkeypatch, capsys) -> None:
    ro = tmp_path / "ro"
    real_open, real_mkdir = os.open, Path.mkdir

    def read_only(path, *args, **kwargs):
        if str(path).startswith(str(ro)):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, *args, **kwargs)

    def mkdir(self, *args, **kwargs):
        if str(self).startswith(str(ro)):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only)
    monkeypatch.setattr(Path, "mkdir", mkdir)
    assert main(["compare", *FAST, "--out", str(ro / "run")]) == 2
    err = _error(capsys)
    assert f"{ro / 'run'}: cannot write there (Read-only file system" in err and "--out" in err


@pytest.mark.parametrize(("fragment", "named"), [("results.json", "results.json"), (".partial", ".partial/")])
def test_full_disk_names_the_file(tmp_path: Path, monkeypatch, capsys, fragment: str, named: str) -> None:
    monkeypatch.setattr("faceedit_bench.harness.evaluation.resume.CHECKPOINT_EVERY_S", 0.0)
    _full_disk_for(monkeypatch, fragment)
    out = tmp_path / "run"
    assert main(["compare", *FAST, "--out", str(out)]) == 2
    err = _error(capsys)
    assert f"cannot write {out}/{named}" in err and "No space left on device" in err
    assert not list(out.rglob("*.tmp")), "the temp file of the failed write is removed"


def test_full_crop_cache_continues_uncached(tmp_path: Path, monkeypatch, capsys) -> None:
    import torch

    from faceedit_bench.data.crop import CropCache

    _full_disk_for(monkeypatch, str(tmp_path / "cache"))
    cache = CropCache(tmp_path / "cache")
    cache.save("k", {"image": torch.zeros(2, 2, 3, dtype=torch.uint8)})  # no exception
    assert "could not write cache entry" in capsys.readouterr().out
    assert cache.load("k") is None


def test_missing_module_in_editors_is_named(tmp_path: Path, capsys) -> None:
    argv = ["compare", *FAST, "--out", str(tmp_path / "r"), "--editors", "mine=no_such_module_xyz:Editor"]
    assert main(argv) == 2
    err = _error(capsys)
    assert "editor 'mine' (--editors mine=no_such_module_xyz:Editor)" in err
    assert "no module named 'no_such_module_xyz'" in err
    (tmp_path / "broken_user_mod.py").write_text("import no_such_dependency_xyz\n")
    sys.path.insert(0, str(tmp_path))
    try:
        argv[-1] = "broken=broken_user_mod:Editor"
        assert main(argv) == 2
        assert "importing 'broken_user_mod' failed: No module named 'no_such_dependency_xyz'" in _error(
            capsys
        )
    finally:
        sys.path.remove(str(tmp_path))


class _EntryPoint:
    def __init__(self, name: str, value: str) -> None:
        self.name, self.value, self.dist = name, value, None


def test_entry_points_named_like_builtins_warn_and_missing_modules_are_named(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    from importlib import metadata

    from faceedit_bench import plugins

    eps = [_EntryPoint("identity", "theirs:Identity"), _EntryPoint("ep-missing", "no_such_ep_module:Editor")]
    monkeypatch.setattr(metadata, "entry_points", lambda group: eps)
    try:
        assert plugins.register_entry_points() == ["ep-missing"]
        err = capsys.readouterr().err
        assert "entry point faceedit_bench.editors:identity = 'theirs:Identity' ignored" in err
        assert "'identity' is a built-in editor" in err
        assert plugins.editors.meta("identity").get("group") == "reference"  # the built-in stays
        assert main(["compare", *FAST, "--out", str(tmp_path / "r"), "--editors", "ep-missing"]) == 2
        err = _error(capsys)
        assert "editor 'ep-missing' (entry point faceedit_bench.editors:ep-missing" in err
        assert "no module named 'no_such_ep_module'" in err
    finally:
        plugins.editors.unregister("ep-missing")


def test_unreasonable_sizes_are_refused_before_allocating(tmp_path: Path, capsys) -> None:
    argv = ["compare", "--dataset", "aurig", "--dataset-args", "split=test", "n_pairs=200000000",
            "--out", str(tmp_path / "r")]  # fmt: skip
    assert main(argv) == 2
    assert "--dataset-args n_pairs=200000000: must be between 1 and 1,000,000" in _error(capsys)
    argv[5] = "resolution=60000"
    assert main(argv) == 2
    assert "--dataset-args resolution=60000: must be between 8 and 4,096" in _error(capsys)
    protocol = tmp_path / "big.yaml"
    protocol.write_text("dataset: aurig\nsplit: test\nn_pairs: 200000000\n")
    assert main(["compare", "--protocol", str(protocol), "--out", str(tmp_path / "r")]) == 2
    assert f"--protocol {protocol} n_pairs=200000000: must be between" in _error(capsys)


def test_broken_pipe_ends_quietly(monkeypatch, capsys) -> None:
    class ClosedPipe:
        def write(self, text: str) -> int:
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")

        def flush(self) -> None:
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")

        def fileno(self) -> int:
            raise OSError("no file")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["ls"]) == 141
    monkeypatch.undo()
    assert "Traceback" not in capsys.readouterr().err


def test_n_pairs_past_the_protocol_records_what_was_evaluated(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["compare", *FAST, "--out", str(out), "--n-pairs", "1000000000"]) == 0
    assert "--n-pairs 1000000000 is more than the 10 pairs there are" in capsys.readouterr().out
    data = json.loads((out / "results.json").read_text())
    assert data["config"]["n_pairs"] is None and data["protocol"]["n_pairs_evaluated"] == 10
