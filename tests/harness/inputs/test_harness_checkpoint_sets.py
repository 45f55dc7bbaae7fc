"""Shipped checkpoint sets: a protocol names the set its trained editors load, never another dataset's."""

import shutil

import pytest

from faceedit_bench import plugins
from faceedit_bench.api.editor import create_editor
from faceedit_bench.api.protocol import Protocol
from faceedit_bench.editors import trained
from faceedit_bench.editors.trained import CHECKPOINT_ROOT, shipped_checkpoint
from faceedit_bench.harness.inputs.editors import load_editors
from faceedit_bench.protocols import _TRAINED_EDITORS

SHIPPED_TWO_STAGE = CHECKPOINT_ROOT / "aurig-64" / "two-stage.pt"


@pytest.fixture
def root(tmp_path, monkeypatch):
    """A checkpoint tree holding only aurig-64/two-stage.pt."""
    (tmp_path / "aurig-64").mkdir()
    shutil.copyfile(SHIPPED_TWO_STAGE, tmp_path / "aurig-64" / "two-stage.pt")
    monkeypatch.setattr(trained, "CHECKPOINT_ROOT", tmp_path)
    return tmp_path


def test_protocols_name_their_checkpoint_set():
    assert [
        plugins.protocols.get(n).checkpoint_set for n in ("aurig-smoke", "aurig-demo", "aurig-paper")
    ] == ["aurig-64"] * 3
    video = plugins.protocols.get("video-reenact")
    assert video.checkpoint_set == "video-64" and video.to_json()["checkpoint_set"] == "video-64"
    derived = Protocol("p", 1, "image-folder", {}, "test", 128, 4, 0, ("psnr",))
    assert derived.checkpoint_set == "image-folder-128"


def test_aurig_protocols_still_load_aurig_64_at_every_resolution():
    for name in ("aurig-smoke", "aurig-paper"):
        protocol = plugins.protocols.get(name)
        for editor in _TRAINED_EDITORS:
            shipped = CHECKPOINT_ROOT / "aurig-64" / f"{editor}.pt"
            # every editor of the set that is shipped (ablations may be left untrained)
            assert shipped_checkpoint(editor, protocol.checkpoint_set) == (
                shipped if shipped.is_file() else None
            )
        assert {"two-stage", "ganimation"} <= {
            e for e in _TRAINED_EDITORS if shipped_checkpoint(e, "aurig-64")
        }
    # a derived set at another resolution falls back to the same dataset's nearest one
    assert shipped_checkpoint("two-stage", "aurig-32") == SHIPPED_TWO_STAGE
    assert shipped_checkpoint("two-stage", "aurig-128") == SHIPPED_TWO_STAGE


def test_video_protocol_never_picks_aurig_checkpoints():
    video = plugins.protocols.get("video-reenact")
    for editor in _TRAINED_EDITORS:
        path = shipped_checkpoint(editor, video.checkpoint_set)
        assert path is None or path.parent.name == "video-64", (editor, path)
    for editor in video.default_editors:
        if editor in _TRAINED_EDITORS:  # every trained default is shipped for it
            assert (
                shipped_checkpoint(editor, video.checkpoint_set)
                == CHECKPOINT_ROOT / "video-64" / f"{editor}.pt"
            )


def test_editor_missing_from_the_set_is_unavailable_with_reason(root):
    assert shipped_checkpoint("two-stage", "video-64") is None
    editors, unavailable = load_editors(
        ["identity", "two-stage", "warp-only"], {}, 64, "cpu", True, checkpoint_set="video-64"
    )
    assert list(editors) == ["identity"]
    for name in ("two-stage", "warp-only"):
        assert f"no shipped checkpoint for editor {name!r} in set 'video-64'" in unavailable[name]
        assert f"--dataset video --resolution 64 --out runs/{name}" in unavailable[name]
    # AU-rig's set still loads (a smaller resolution picks the nearest shipped one)
    editors, unavailable = load_editors(["two-stage"], {}, 32, "cpu", True, checkpoint_set="aurig-32")
    assert editors["two-stage"].describe()["checkpoint"] == str(root / "aurig-64" / "two-stage.pt")


def test_the_protocols_set_is_loaded_and_an_explicit_checkpoint_wins(root):
    (root / "video-64").mkdir()
    shutil.copyfile(SHIPPED_TWO_STAGE, root / "video-64" / "two-stage.pt")
    editors, _ = load_editors(["two-stage"], {}, 64, "cpu", True, checkpoint_set="video-64")
    assert editors["two-stage"].describe()["checkpoint"] == str(root / "video-64" / "two-stage.pt")
    explicit = {"two-stage": str(root / "aurig-64" / "two-stage.pt")}
    editors, _ = load_editors(["two-stage"], explicit, 64, "cpu", True, checkpoint_set="video-64")
    assert editors["two-stage"].describe()["checkpoint"] == explicit["two-stage"]


def test_factories_without_a_checkpoint_set_parameter_still_load():
    class Plain:
        @classmethod
        def create(cls, *, checkpoint, resolution, device):
            return (checkpoint, resolution, device)

    assert create_editor(Plain, checkpoint=None, resolution=8, device="cpu", checkpoint_set="video-64") == (
        None,
        8,
        "cpu",
    )
