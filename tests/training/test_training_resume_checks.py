"""``train --resume`` continues only the run it was given: same options, a readable checkpoint."""

import json
import re

import pytest

from faceedit_bench.config import ConfigError
from faceedit_bench.training import train


@pytest.fixture
def finished(tiny_config, tiny_faces):
    """A 4-step run (checkpoint at step 4) and the config that made it."""
    config = tiny_config("two-stage")
    return train(config, dataset=tiny_faces()), config


@pytest.mark.parametrize(
    ("change", "listed"),
    [
        ({"lr_g": 5e-4}, "lr_g: 0.0002 -> 0.0005"),
        ({"batch_size": 2}, "batch_size: 4 -> 2"),
        ({"seed": 7}, "seed: 0 -> 7"),
        ({"resolution": 32}, "resolution: 16 -> 32"),
    ],
)
def test_resume_with_changed_options_is_refused_and_lists_them(
    finished, tiny_config, tiny_faces, change, listed
):
    out, _ = finished
    before = (out / "config.json").read_text()
    with pytest.raises(ConfigError, match=re.escape(listed)) as err:
        train(
            tiny_config("two-stage", steps=8, resume=True, **change),
            dataset=tiny_faces(resolution=change.get("resolution", 16)),
        )
    assert str(out / "checkpoint.pt") in str(err.value)
    assert (out / "config.json").read_text() == before  # the run's record is untouched


def test_resume_keeps_the_runs_config_record(finished, tiny_config, tiny_faces):
    out, _ = finished
    recorded = json.loads((out / "config.json").read_text())
    train(tiny_config("two-stage", resume=True, progress=False, threads=1, log_every=2), dataset=tiny_faces())
    assert json.loads((out / "config.json").read_text()) == recorded


def test_resume_without_a_checkpoint_says_so(tiny_config, tiny_faces):
    config = tiny_config("two-stage", resume=True)
    with pytest.raises(ConfigError, match=re.escape(str(config.run_dir / "checkpoint.pt"))):
        train(config, dataset=tiny_faces())
    assert not (config.run_dir / "metrics.jsonl").exists()


@pytest.mark.parametrize("keep", [0, 200, -10])
def test_resume_from_a_damaged_checkpoint_names_the_file(finished, tiny_config, tiny_faces, keep):
    out, _ = finished
    ckpt = out / "checkpoint.pt"
    data = ckpt.read_bytes()
    ckpt.write_bytes(data[:keep])  # empty, cut early, cut at the end
    with pytest.raises(ValueError, match=re.escape(str(ckpt)) + " (is empty|is truncated)"):
        train(tiny_config("two-stage", resume=True), dataset=tiny_faces())


def test_resume_on_another_thread_count_is_refused_naming_the_old_value(finished, tiny_config, tiny_faces):
    """Another --threads gives other weights (float reductions split by thread): refused, not resumed."""
    import torch

    out, _ = finished
    before = (out / "checkpoint.pt").read_bytes()
    threads = torch.get_num_threads()
    try:
        with pytest.raises(ConfigError, match=r"option 'threads' differs .* --threads 1\b") as err:
            train(tiny_config("two-stage", resume=True, threads=2), dataset=tiny_faces())
    finally:
        torch.set_num_threads(threads)
    assert str(out / "checkpoint.pt") in str(err.value) and "ran on 1 torch thread" in str(err.value)
    assert (out / "checkpoint.pt").read_bytes() == before
    assert json.loads((out / "config.json").read_text())["torch_threads"] == 1
