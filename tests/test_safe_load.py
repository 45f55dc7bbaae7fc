"""No file the toolkit reads runs code: a planted pickle is refused at every load path.

Each test plants a torch file whose unpickling would create ``marker`` (the control
test shows it does when loaded the unsafe way) and asserts the toolkit refuses it
with a message naming the file, and that ``marker`` never appears.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from faceedit_bench.config import ConfigError
from faceedit_bench.safe_load import UnsafeOrBrokenFile, load_tensors

PACKAGE = Path(__file__).resolve().parents[1] / "faceedit_bench"


class Planted:
    """Unpickling this touches ``marker``: a stand-in for arbitrary code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.fixture
def planted(tmp_path):
    """``plant(path)`` writes a malicious torch file there; ``marker`` shows whether it ran."""
    marker = tmp_path / "code-ran"

    def plant(path: Path, wrap: bool = True) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = (
            {"format": "faceedit-bench-train/1", "generator": Planted(marker)} if wrap else Planted(marker)
        )
        torch.save(payload, path)
        return path

    plant.marker = marker
    return plant


def test_the_planted_file_runs_code_when_loaded_unsafely(planted, tmp_path):
    torch.load(planted(tmp_path / "x.pt"), weights_only=False)
    assert planted.marker.exists()


def test_load_tensors_refuses_objects_and_names_broken_files(planted, tmp_path):
    with pytest.raises(UnsafeOrBrokenFile, match=re.escape(str(tmp_path / "x.pt")) + ".*refused"):
        load_tensors(planted(tmp_path / "x.pt"))
    good = tmp_path / "good.pt"
    torch.save({"w": torch.ones(3), "meta": {"step": 3, "name": "a"}, "list": [1.5, "b"]}, good)
    assert load_tensors(good)["meta"]["step"] == 3
    (tmp_path / "cut.pt").write_bytes(good.read_bytes()[:100])
    with pytest.raises(UnsafeOrBrokenFile, match=r"cut\.pt is truncated or not a torch file"):
        load_tensors(tmp_path / "cut.pt")
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(UnsafeOrBrokenFile, match=r"empty\.pt is empty"):
        load_tensors(tmp_path / "empty.pt")
    assert not planted.marker.exists()


def test_evaluate_checkpoint_refuses_a_planted_file(planted, tmp_path):
    from faceedit_bench.harness.inputs.editors import load_editors

    path = planted(tmp_path / "evil.pt")
    loaded, unavailable = load_editors(["two-stage"], {"two-stage": str(path)}, 32, "cpu", False)
    assert not loaded and str(path) in unavailable["two-stage"] and "refused" in unavailable["two-stage"]
    assert not planted.marker.exists()


def test_train_init_refuses_a_planted_file(planted, tmp_path):
    from faceedit_bench.editors.spec import EditorSpec
    from faceedit_bench.training.checkpoint import load_init

    path = planted(tmp_path / "evil.pt")
    with pytest.raises(ConfigError, match=re.escape(str(path)) + ".*refused"):
        load_init(path, "two-stage", EditorSpec(), 16)
    assert not planted.marker.exists()


def test_train_resume_refuses_a_planted_checkpoint(planted, tmp_path):
    from faceedit_bench.training.checkpoint import load_checkpoint

    path = planted(tmp_path / "run" / "checkpoint.pt")
    with pytest.raises(UnsafeOrBrokenFile, match=re.escape(str(path)) + ".*refused"):
        load_checkpoint(path)
    assert not planted.marker.exists()


def test_inception_weights_from_the_environment_refuse_a_planted_file(planted, tmp_path, monkeypatch):
    pytest.importorskip("torch_fidelity")
    from faceedit_bench.backends.fid_inception import WEIGHTS_ENV, InceptionV3Compat

    path = planted(tmp_path / "inception.pth", wrap=False)
    monkeypatch.setenv(WEIGHTS_ENV, str(path))
    with pytest.raises(UnsafeOrBrokenFile, match=re.escape(str(path)) + ".*refused"):
        InceptionV3Compat()
    assert not planted.marker.exists()


def test_caches_refuse_planted_files_and_rebuild(planted, tmp_path):
    from faceedit_bench.cache_file import INDEX_FORMAT, INDEX_NAME, load_checked
    from faceedit_bench.data.crop import CropCache
    from faceedit_bench.io import sha256_file, write_json_atomic

    path = planted(tmp_path / "feat.pt", wrap=False)
    entry, why = load_checked(path, "k")
    assert entry is None and "not recorded in the cache index" in why  # never opened by torch
    # even with the index forged to list it, the load itself runs no code
    listed = {"feat.pt": {"key": "k", "sha256": sha256_file(path)}}
    write_json_atomic(tmp_path / INDEX_NAME, {"format": INDEX_FORMAT, "entries": listed})
    entry, why = load_checked(path, "k")
    assert entry is None and "refused" in why
    cache = CropCache(tmp_path / "crops")
    planted(cache.path("ab" * 16), wrap=False)
    assert cache.load("ab" * 16) is None
    assert not planted.marker.exists()


def test_no_unsafe_load_in_the_package():
    unsafe, loads = [], []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        if "weights_only=False" in text:
            unsafe.append(str(path))
        for call in re.findall(r"torch\.load\([^)]*\)", text):
            if "weights_only=True" not in call:
                loads.append(f"{path}: {call}")
    assert not unsafe and not loads
