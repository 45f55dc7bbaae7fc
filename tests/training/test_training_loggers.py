"""train --logger tensorboard: events hold metrics.jsonl's scalars, the validation grid and hparams."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from faceedit_bench.config import ConfigError
from faceedit_bench.io import read_jsonl
from faceedit_bench.training import loggers
from faceedit_bench.training.loop import train

pytest.importorskip("tensorboard", reason="tensorboard is a dev dependency (pip install -e '.[dev]')")


def test_two_step_run_writes_events_that_tensorboard_reads_back(tiny_config, tiny_faces) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    config = tiny_config("two-stage", steps=2, g_every=1, val_every=2, logger="tensorboard")
    out = train(config, tiny_faces(), tiny_faces(split="val"))
    acc = EventAccumulator(str(out / "tensorboard"), size_guidance={"images": 0, "scalars": 0, "tensors": 0})
    acc.Reload()
    tags = acc.Tags()
    rows = read_jsonl(out / "metrics.jsonl")
    train_rows = [r for r in rows if r["kind"] == "train"]
    assert [r["step"] for r in train_rows] == [1, 2]
    for row in train_rows:  # every number of metrics.jsonl, at its step
        for key, value in row.items():
            if key in ("kind", "step", "time_s"):
                continue
            tag = key if "/" in key else f"train/{key}"
            logged = {e.step: e.value for e in acc.Scalars(tag)}
            assert logged[row["step"]] == pytest.approx(value, rel=1e-6, abs=1e-6), tag
    assert len(train_rows[-1]) > 6 and "train/lr_g" in tags["scalars"]  # losses and learning rates
    val = next(r for r in rows if r["kind"] == "val")
    for key in (k for k in val if k not in ("kind", "step", "time_s")):
        assert (key if "/" in key else f"val/{key}") in tags["scalars"]
    (image,) = acc.Images("val/samples")
    with Image.open(out / "samples" / "step_000002.png") as png:
        assert (image.step, image.width, image.height) == (2, png.width, png.height)
    assert "_hparams_/session_start_info" in _all_tags(out / "tensorboard")  # for the HParams tab
    finals = [t for t in tags["scalars"] if t.startswith("final/")]
    assert finals and all(e.step == 2 for t in finals for e in acc.Scalars(t))  # the last step, not 0


def _all_tags(log_dir) -> set[str]:
    """Summary tags of every event file under ``log_dir`` (hparams go to a file of their own)."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    return {
        value.tag
        for path in log_dir.rglob("events.out.tfevents.*")
        for event in EventFileLoader(str(path)).Load()
        for value in event.summary.value
    }


def test_none_writes_no_events_and_unknown_names_are_refused(tiny_config, tiny_faces) -> None:
    out = train(tiny_config("ganimation", steps=2, g_every=1, logger="none"), tiny_faces(), tiny_faces())
    assert not (out / "tensorboard").exists() and (out / "metrics.jsonl").exists()
    with pytest.raises(ConfigError, match="option 'logger'"):
        tiny_config("two-stage", logger="wandb")


def test_auto_means_tensorboard_only_when_installed(monkeypatch) -> None:
    assert loggers.resolve("auto") == "tensorboard"
    monkeypatch.setattr(loggers.importlib.util, "find_spec", lambda name: None)
    assert loggers.resolve("auto") == "none" and not loggers.available("mlflow")
    assert np.isclose(loggers._scalar_items({"a": 1, "b": float("nan"), "c": "x"})["a"], 1.0)


def test_validation_image_names_its_rows_and_shows_target_flow_and_mask(tiny_config, tiny_faces) -> None:
    from faceedit_bench.training.validate import LABEL_WIDTH

    config = tiny_config("two-stage", steps=1, g_every=1, val_every=1, logger="none")
    out = train(config, tiny_faces(), tiny_faces(split="val"))
    with Image.open(out / "samples" / "step_000001.png") as png:
        arr = np.asarray(png.convert("RGB"))
    labels = arr[:, :LABEL_WIDTH]
    res = config.resolution
    assert arr.shape[0] % res == 0 and arr.shape[0] // res == 6  # source, AU donor, warped, edit, flow, mask
    for row in range(6):  # a name drawn in every row's label cell
        assert (labels[row * res : (row + 1) * res] < 128).any()
