"""What a training run tells and records: recipe parts it cannot use, skipped images, the next command."""

from __future__ import annotations

import json

from faceedit_bench.config import build_config
from faceedit_bench.training import train
from faceedit_bench.training.config import TrainConfig
from faceedit_bench.training.loop import skipped_images


def test_recipe_parts_missing_at_this_resolution_are_said_and_recorded(tiny_config, tiny_faces, capsys):
    """cpu-64 ships its critic and motion step for aurig at 64 px only: at 16 px both start fresh, saying so."""
    config = tiny_config("two-stage", dataset="aurig")
    assert config.critic_init is None and config.motion_init is None
    out = train(config, dataset=tiny_faces())
    printed = capsys.readouterr().out
    assert "note: recipe cpu-64 starts the critic from a pre-trained AU head, but none ships" in printed
    assert "note: recipe cpu-64 starts the motion step from a pre-trained one" in printed
    assert "aurig-64" in printed and "16 px" in printed
    notes = json.loads((out / "config.json").read_text())["recipe_notes"]
    assert len(notes) == 2 and all("16 px" in n for n in notes)
    assert json.loads((out / "summary.json").read_text())["recipe_notes"] == notes


def test_at_the_shipped_resolution_nothing_is_dropped():
    config = build_config(TrainConfig, editor="two-stage", dataset="aurig", resolution=64)
    assert config.critic_init is not None and config.motion_init is not None and config.recipe_notes == []
    none = build_config(TrainConfig, editor="two-stage", dataset="aurig", resolution=64, motion_init="none")
    assert none.recipe_notes == []  # the user's own choice: nothing to warn about


def test_the_end_names_the_checkpoint_and_the_command_that_evaluates_it(tiny_config, tiny_faces, capsys):
    out = train(tiny_config("two-stage"), dataset=tiny_faces())
    printed = capsys.readouterr().out
    ckpt = out / "checkpoint.pt"
    assert f"checkpoint written: {ckpt}" in printed
    assert f"faceedit-bench evaluate --editor two-stage --checkpoint {ckpt}" in printed
    assert f"faceedit-bench compare --editors identity two-stage --checkpoint two-stage={ckpt}" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["checkpoint"] == str(ckpt) and summary["evaluate"].startswith("faceedit-bench evaluate")


def test_a_shipped_resolution_names_its_protocol(tiny_config):
    from faceedit_bench.training.loop import evaluate_command

    config = build_config(TrainConfig, editor="two-stage", dataset="aurig", resolution=64)
    evaluate, compare = evaluate_command(config, tiny_config().run_dir / "checkpoint.pt")
    assert evaluate.endswith("--protocol aurig-demo") and compare.endswith("--protocol aurig-demo")


def test_skipped_training_images_are_recorded_in_the_run(tiny_config, tiny_faces):
    class Skipping(tiny_faces):
        def __init__(self) -> None:
            super().__init__()
            self.skipped = {"no_face": ["a.png: no face found"], "unreadable": ["b.png: not an image"]}

    assert skipped_images(tiny_faces()) == {"count": 0}
    out = train(tiny_config("two-stage"), dataset=Skipping())
    recorded = json.loads((out / "config.json").read_text())["skipped_images"]
    assert recorded == {
        "count": 2,
        "no_face": ["a.png: no face found"],
        "unreadable": ["b.png: not an image"],
    }
    assert json.loads((out / "summary.json").read_text())["skipped_images"]["count"] == 2


def test_a_run_records_its_supervision_regime_and_the_editor_reads_it(tiny_config, tiny_faces):
    """Without pairs a run is unpaired; the paired loss makes it paired; the checkpoint carries it."""
    from faceedit_bench import plugins
    from faceedit_bench.training.checkpoint import load_checkpoint

    out = train(tiny_config("ganimation"), dataset=tiny_faces())
    assert json.loads((out / "config.json").read_text())["supervision"] == "unpaired"
    assert load_checkpoint(out / "checkpoint.pt")["supervision"] == "unpaired"
    assert plugins.editors.get("ganimation").load(out / "checkpoint.pt").supervision() == "unpaired"
    paired = train(
        tiny_config(
            "ganimation", loss_weights={"lambda_pair": 10.0}, pair_on="output", out=out.parent / "paired"
        ),
        dataset=tiny_faces(),
    )
    assert json.loads((paired / "config.json").read_text())["supervision"] == "paired"


def test_the_regime_of_an_init_checkpoint_without_a_record_is_read_from_the_checkpoint(tmp_path):
    """``--init RUN/checkpoint.pt`` has no ``<stem>.json`` beside it: the checkpoint's own record counts."""
    import torch

    from faceedit_bench.editors.trained import init_regime

    recorded, derived, plain = tmp_path / "a.pt", tmp_path / "b.pt", tmp_path / "c.pt"
    torch.save({"supervision": "paired", "config": {}}, recorded)
    torch.save({"config": {"motion_init": {"path": "motion.pt"}}}, derived)
    torch.save({"config": {"motion_init": None}}, plain)
    assert init_regime(str(recorded)) == "paired"
    assert init_regime({"path": str(derived), "sha256": "0" * 64}) == "paired"
    assert init_regime(str(plain)) == "unpaired"
    assert init_regime(str(tmp_path / "gone.pt")) is None
