"""The assets tree: its manifest vouches for every shipped file, and a changed weight file is refused."""

from __future__ import annotations

import json

import pytest
import torch

from faceedit_bench import shipped
from faceedit_bench.io import write_json_atomic
from faceedit_bench.safe_load import UnsafeOrBrokenFile, load_tensors


def test_the_shipped_manifest_matches_the_tree():
    assert shipped.check_manifest() == [], f"rebuild: {shipped.REBUILD}"
    manifest = json.loads(shipped.MANIFEST.read_text())
    weights = [e for e in manifest["files"] if e["name"].endswith(".pt")]
    kinds = {e["kind"] for e in weights}
    assert {"editors", "critics", "motions", "judges"} <= kinds
    for entry in weights:  # each weight file says where it came from
        assert entry["command"] and entry["date"] and len(entry["sha256"]) == 64, entry["name"]
    logs = [e["name"] for e in manifest["files"] if e["name"].endswith(".metrics.jsonl")]
    assert logs and all(name.startswith("logs/") for name in logs)


def test_every_shipped_editor_log_is_found_from_its_checkpoint():
    for checkpoint in shipped.asset_dir("editors").rglob("*.pt"):
        assert shipped.training_log(checkpoint).is_file(), checkpoint


@pytest.fixture
def tiny_tree(tmp_path, monkeypatch):
    root = tmp_path / "assets"
    (root / "critics").mkdir(parents=True)
    weights = root / "critics" / "toy-16.pt"
    torch.save(
        {"critic": {"w": torch.ones(3)}, "config": {"recipe": "toy", "steps": 2, "cache": True}}, weights
    )
    monkeypatch.setattr(shipped, "ASSETS", root)
    monkeypatch.setattr(shipped, "MANIFEST", root / "manifest.json")
    shipped._manifest_files.cache_clear()
    shipped._verified.cache_clear()
    write_json_atomic(root / "manifest.json", shipped.build_manifest())
    yield weights
    shipped._manifest_files.cache_clear()
    shipped._verified.cache_clear()


def test_a_vouched_file_loads_and_records_its_command(tiny_tree):
    assert load_tensors(tiny_tree)["critic"]["w"].sum() == 3
    (entry,) = [
        e for e in json.loads(shipped.MANIFEST.read_text())["files"] if e["name"] == "critics/toy-16.pt"
    ]
    assert entry["recipe"] == "toy"
    assert entry["command"].startswith("python -m faceedit_bench.training.critic_pretrain")
    assert "--cache" in entry["command"] and "True" not in entry["command"]


def test_a_changed_shipped_file_is_refused_by_name(tiny_tree):
    torch.save(
        {"critic": {"w": torch.zeros(3)}, "config": {}}, tiny_tree
    )  # a silent retrain or a planted file
    with pytest.raises(UnsafeOrBrokenFile, match=r"toy-16\.pt: its bytes differ from the assets manifest"):
        load_tensors(tiny_tree, "critic")
    assert shipped.check_manifest() == [f"{tiny_tree}: bytes differ from the manifest"]


def test_an_unlisted_shipped_file_is_refused(tiny_tree):
    extra = tiny_tree.with_name("extra-16.pt")
    torch.save({"w": torch.ones(1)}, extra)
    with pytest.raises(UnsafeOrBrokenFile, match="the assets manifest does not list"):
        load_tensors(extra)


def test_files_outside_the_tree_are_not_checked(tmp_path, tiny_tree):
    own = tmp_path / "own.pt"
    torch.save({"w": torch.ones(2)}, own)
    assert load_tensors(own)["w"].sum() == 2
