"""The shared trainer: determinism, exact resume, no ground truth, files, CLI."""

import argparse
import contextlib
import json

import pytest
import torch

from faceedit_bench.api.dataset import FaceDataset
from faceedit_bench.io import read_jsonl
from faceedit_bench.training import train
from faceedit_bench.training.checkpoint import export_weights, load_checkpoint
from faceedit_bench.training.loop import lr_factor


def _weights(run_dir):
    state = load_checkpoint(run_dir / "checkpoint.pt")
    return {
        **{f"g.{k}": v for k, v in state["generator"].items()},
        **{f"d.{k}": v for k, v in state["critic"].items()},
    }


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=1e-6, rtol=0, msg=k)


def test_run_writes_checkpoint_metrics_and_summary(tiny_config, tiny_faces):
    out = train(tiny_config("two-stage"), dataset=tiny_faces())
    rows = read_jsonl(out / "metrics.jsonl")
    train_rows = [r for r in rows if r["kind"] == "train"]
    assert [r["step"] for r in train_rows] == [1, 2, 3, 4]
    assert {"d/gp", "d/au", "g/cycle", "g/flow_tv", "g/flow_bias", "g/mask"} <= train_rows[-1].keys()
    assert all(
        r[k] >= 0
        for r in train_rows
        for k in r
        if k.startswith(("d/gp", "d/au", "g/cycle", "g/flow", "g/mask"))
    )
    val = [r for r in rows if r["kind"] == "val"]
    assert [r["step"] for r in val] == [2, 4] and "val/au_mae_critic" in val[-1]
    state = load_checkpoint(out / "checkpoint.pt")
    assert state["step"] == 4 and state["seed"] == 0 and state["config"]["editor"] == "two-stage"
    assert {"opt_g", "opt_d", "rng", "torch_rng"} <= state.keys()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 4 and "val/au_mae_critic" in summary["final_metrics"]
    small = export_weights(out / "checkpoint.pt", out / "w.pt")
    assert "critic" not in small and next(iter(small["generator"].values())).dtype == torch.float16


def test_same_seed_same_weights_other_seed_differs(tiny_config, tiny_faces):
    a = train(tiny_config("ganimation", out=tiny_config().out.parent / "a"), dataset=tiny_faces())
    b = train(tiny_config("ganimation", out=tiny_config().out.parent / "b"), dataset=tiny_faces())
    c = train(tiny_config("ganimation", out=tiny_config().out.parent / "c", seed=1), dataset=tiny_faces())
    _assert_same(_weights(a), _weights(b))
    wa, wc = _weights(a), _weights(c)
    assert any(not torch.equal(wa[k], wc[k]) for k in wa)


@pytest.mark.parametrize("critic_au_aug", [0.0, 1.0])  # 1.0: the perturbations' random numbers resume too
def test_resume_equals_uninterrupted_run(tiny_config, tiny_faces, critic_au_aug):
    full = train(
        tiny_config("two-stage", steps=6, out=tiny_config().out.parent / "full", critic_au_aug=critic_au_aug),
        dataset=tiny_faces(),
    )
    part_dir = tiny_config().out.parent / "part"
    # "killed" after step 4: a run planned for 6 steps whose process stops at the step-4 checkpoint
    train(
        tiny_config("two-stage", steps=6, out=part_dir, critic_au_aug=critic_au_aug),
        dataset=_StopAfter(tiny_faces(), 4),
        val_dataset=tiny_faces(),
    )
    assert load_checkpoint(part_dir / "checkpoint.pt")["step"] == 4
    with pytest.raises(ValueError, match="--resume"):
        train(
            tiny_config("two-stage", steps=6, out=part_dir, critic_au_aug=critic_au_aug), dataset=tiny_faces()
        )
    train(
        tiny_config("two-stage", steps=6, out=part_dir, resume=True, critic_au_aug=critic_au_aug),
        dataset=tiny_faces(),
    )
    _assert_same(_weights(full), _weights(part_dir))
    steps = [r["step"] for r in read_jsonl(part_dir / "metrics.jsonl") if r["kind"] == "train"]
    assert steps == [1, 2, 3, 4, 5, 6]  # lines written after the checkpoint were dropped, none lost


class _StopAfter(FaceDataset):
    """Raises KeyboardInterrupt when batch number ``n + 1`` is requested (a killed run)."""

    def __init__(self, inner, n):
        self.inner, self.n, self.calls, self.resolution = inner, n, 0, inner.resolution

    def __len__(self):
        return len(self.inner)

    def get(self, index):
        return self.inner.get(index)

    def get_batch(self, indices):
        self.calls += 1
        if self.calls > self.n:
            raise KeyboardInterrupt
        return self.inner.get_batch(indices)

    def cache_key(self):
        return "stop"

    def make_pairs(self, *a, **k):
        raise AssertionError


@pytest.fixture(autouse=True)
def _swallow_interrupt(monkeypatch):
    """Let a simulated kill end ``train`` quietly (the checkpoint on disk is what counts)."""
    import faceedit_bench.training.loop as loop

    original = loop._loop

    def guarded(*args, **kwargs):
        with contextlib.suppress(KeyboardInterrupt):
            original(*args, **kwargs)

    monkeypatch.setattr(loop, "_loop", guarded)


class _ImagesAndAUsOnly(FaceDataset):
    """Exposes images and AUs through ``get_batch`` only; every other accessor fails the test."""

    def __init__(self, inner):
        self.inner, self.resolution, self.batches = inner, inner.resolution, 0

    def __len__(self):
        return len(self.inner)

    def get(self, index):
        raise AssertionError("the trainer must use get_batch")

    def get_batch(self, indices):
        self.batches += 1
        return self.inner.get_batch(indices)

    def cache_key(self):
        raise AssertionError("not needed for training")

    def make_pairs(self, *a, **k):
        raise AssertionError("ground truth (pairs with target image/flow/mask) reached training")

    def __getattr__(self, name):  # any ground-truth accessor a dataset might offer
        raise AssertionError(f"training touched dataset.{name}")


def test_no_ground_truth_reaches_training(tiny_config, tiny_faces):
    data = _ImagesAndAUsOnly(tiny_faces())
    val = _ImagesAndAUsOnly(tiny_faces(seed=1))
    train(tiny_config("two-stage"), dataset=data, val_dataset=val)
    assert data.batches == 4 and val.batches == 1


def test_lr_decays_linearly_over_the_last_third():
    assert lr_factor(0, 300, 1 / 3) == 1 and lr_factor(200, 300, 1 / 3) == 1
    assert lr_factor(250, 300, 1 / 3) == pytest.approx(0.5) and lr_factor(300, 300, 1 / 3) == 0


def test_time_budget_plans_the_run(tiny_config, tiny_faces):
    out = train(
        tiny_config("ganimation", steps=10_000, time_budget_min=0.02, val_every=0), dataset=tiny_faces()
    )
    state = load_checkpoint(out / "checkpoint.pt")
    assert 20 <= state["step"] < 10_000 and state["step"] == state["planned_steps"]


def test_cli_trains_from_yaml_and_flags(tmp_path, monkeypatch, tiny_faces):
    from faceedit_bench import plugins
    from faceedit_bench.cli import train as cli_train

    monkeypatch.setitem(plugins.datasets._entries, "tiny-test", tiny_faces)
    monkeypatch.setitem(plugins.datasets._meta, "tiny-test", {})
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("editor: warp-only\ndataset: tiny-test\nresolution: 16\nbatch_size: 2\nchannels: 8\n"
                   "res_blocks: 1\nmotion_res_blocks: 1\ncritic_channels: 8\nval_size: 2\nprogress: false\n")  # fmt: skip
    parser = argparse.ArgumentParser()
    cli_train.add_parser(parser.add_subparsers())
    args = parser.parse_args(["train", "--config", str(cfg), "--steps", "2", "--out", str(tmp_path / "r"),
                              "--device", "cpu", "--export", str(tmp_path / "w.pt"),
                              "--loss-weights", "lambda_cycle=2.5"])  # fmt: skip
    assert args.run(args) == 0
    saved = load_checkpoint(tmp_path / "r" / "checkpoint.pt")["config"]
    # the flag's weight on top of the default recipe's (cpu-64)
    recipe = plugins.recipes.get("cpu-64").loss_weights
    assert saved["editor"] == "warp-only" and saved["loss_weights"] == {**recipe, "lambda_cycle": 2.5}
    assert (tmp_path / "w.pt").is_file()


def test_ship_writes_weights_record_and_curves_that_an_editor_loads(tiny_config, tiny_faces, tmp_path):
    from faceedit_bench.editors.variants import TwoStageEditor
    from faceedit_bench.training.ship import ship

    run = train(tiny_config("two-stage"), dataset=tiny_faces())
    dest = tmp_path / "shipped"
    dest.mkdir()
    weights = ship(run, dest, note="test")
    record = json.loads((dest / "two-stage.json").read_text())
    assert record["steps"] == 4 and record["seed"] == 0 and record["note"] == "test"
    assert "val/au_mae_critic" in record["final_metrics"] and record["weights_dtype"] == "float16"
    editor = TwoStageEditor.create(checkpoint=str(weights), resolution=16, device="cpu")
    info = editor.describe()
    assert info["training_metrics"] == str(dest / "two-stage.metrics.jsonl") and info["step"] == 4
    out = editor.edit(torch.rand(2, 3, 16, 16), torch.rand(2, 17) * 5)
    assert out.images.shape == (2, 3, 16, 16)
