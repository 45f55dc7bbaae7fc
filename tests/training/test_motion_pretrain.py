"""Motion-step pre-training on same-person pairs, and ``train --motion-init/--freeze-motion``."""

import re

import pytest
import torch

from faceedit_bench import plugins
from faceedit_bench.config import ConfigError, build_config
from faceedit_bench.training import train
from faceedit_bench.training.distributed import DistEnv
from faceedit_bench.training.loop import _Run
from faceedit_bench.training.motion_pretrain import (
    MotionPretrainConfig,
    motion_spec,
    motion_step_loss,
    pretrain_motion,
)

from .conftest import TensorFaces


class SlidingBars(TensorFaces):
    """16 px grey images with a dark vertical bar at x = 4 + 1.6 * AU12: a person is a bar width.

    The same person at another AU12 is the bar moved sideways, so a warp can map one onto
    the other exactly: a motion step has something to learn.
    """

    key, n_identities = "sliding-bars", 4

    def __init__(self, split: str = "train", resolution: int = 16) -> None:
        g = torch.Generator().manual_seed(int(split == "val"))
        n = 64
        self.aus = torch.zeros(n, 17)
        self.aus[:, 8] = torch.rand(n, generator=g) * 5
        self.images = torch.full((n, 3, 16, 16), 0.7)
        xs = torch.arange(16).float()
        for i in range(n):
            centre, half = 4 + 1.6 * float(self.aus[i, 8]), 1.0 + 0.5 * (i % self.n_identities)
            bar = torch.sigmoid((half - (xs - centre).abs()) * 2)  # soft edges: a smooth photometric signal
            self.images[i] -= 0.5 * bar.view(1, 1, 16)


@pytest.fixture
def sliding_bars():
    plugins.datasets.register("test-sliding-bars", SlidingBars)
    yield "test-sliding-bars"
    plugins.datasets.unregister("test-sliding-bars")


def _config(tmp_path, dataset, **overrides) -> MotionPretrainConfig:
    values = dict(out=tmp_path / "motion.pt", dataset=dataset, resolution=16, channels=8, motion_res_blocks=1,
                  steps=6, batch_size=8, ckpt_every=3, val_pairs=0, threads=1, amp=False)  # fmt: skip
    values.update(overrides)
    return build_config(MotionPretrainConfig, **values)


def _fixed_pairs_loss(motion, config) -> float:
    data = SlidingBars()
    idx = list(range(0, 64, 2))
    partners = [i + 4 if i + 4 < 64 else i - 4 for i in idx]  # same person (4 identities), other AU12
    other = data.get_batch(partners)
    with torch.no_grad():
        loss = motion_step_loss(
            motion, motion_spec(config), data.get_batch(idx).images, other.images, other.aus, 0.0, 0.0
        )
    return float(loss)


def test_pretraining_learns_to_warp_onto_the_same_person(tmp_path, sliding_bars):
    from faceedit_bench.editors.two_stage import TwoStageGenerator

    config = _config(tmp_path, sliding_bars, steps=150, ckpt_every=50, lr=2e-3, flow_tv=0.1, flow_mag=0.0)
    record = pretrain_motion(config, log=lambda line: None)
    torch.manual_seed(config.seed)
    fresh = TwoStageGenerator(motion_spec(config)).motion  # starts at the identity warp
    before = _fixed_pairs_loss(fresh, config)
    fresh.load_state_dict(record["motion"])
    after = _fixed_pairs_loss(fresh, config)
    assert after < 0.8 * before, (before, after)
    assert [row["step"] for row in record["curve"]] == [50, 100, 150] and record["steps"] == 150
    saved = torch.load(config.out, weights_only=True)
    assert saved["format"] == "faceedit-bench-motion/1" and saved["spec"]["channels"] == 8
    assert not config.out.with_name("motion.pt.partial").exists()


def test_a_killed_pretraining_resumes_to_the_same_weights(tmp_path, sliding_bars):
    whole = pretrain_motion(_config(tmp_path / "a", sliding_bars), log=lambda line: None)

    class Killed(Exception):
        pass

    def kill_at_the_second_report(line: str, calls=[]) -> None:  # noqa: B006 (a counter on purpose)
        calls.append(line)
        if len(calls) == 2:
            raise Killed

    config = _config(tmp_path / "b", sliding_bars)
    with pytest.raises(Killed):
        pretrain_motion(config, log=kill_at_the_second_report)
    assert torch.load(f"{config.out}.partial", weights_only=True)["step"] == 3
    lines = []
    resumed = pretrain_motion(config, log=lines.append)
    assert lines[0].startswith("resumed") and resumed["steps"] == 6
    assert all(torch.equal(whole["motion"][k], resumed["motion"][k]) for k in whole["motion"])

    with pytest.raises(ConfigError, match=r"other options.*lr"):
        changed = _config(tmp_path / "b", sliding_bars, lr=1e-3, steps=9)
        torch.save({"config": {**whole["config"], "steps": 9}, "step": 3}, f"{changed.out}.partial")
        pretrain_motion(changed, log=lambda line: None)


def test_aurig_pretraining_scores_the_val_flow_beside_zero_flow(tmp_path):
    config = build_config(MotionPretrainConfig, out=tmp_path / "m.pt", resolution=32, channels=8, steps=2,
                          batch_size=2, ckpt_every=2, val_pairs=4, threads=1)  # fmt: skip
    record = pretrain_motion(config, log=lambda line: None)
    zero, epe = record["val_flow_epe_zero_flow"], record["val_flow_epe"]
    assert set(zero) == set(epe) == {"all", "in", "out"} and zero["all"] > 0


def test_a_dataset_without_partners_is_refused(tmp_path, tiny_faces):
    class Strangers(tiny_faces):
        n_identities = None  # one image per person: no partners

    plugins.datasets.register("test-strangers", Strangers)
    try:
        with pytest.raises(ConfigError, match="same-identity partners"):
            pretrain_motion(_config(tmp_path, "test-strangers"), log=lambda line: None)
    finally:
        plugins.datasets.unregister("test-strangers")


def test_train_starts_from_the_motion_file_and_can_freeze_it(tmp_path, tiny_config, tiny_faces, sliding_bars):
    record = pretrain_motion(_config(tmp_path, sliding_bars), log=lambda line: None)
    path = tmp_path / "motion.pt"
    run = _Run(tiny_config("two-stage", motion_init=path), DistEnv(), torch.device("cpu"))
    loaded = run.generator.motion.state_dict()
    assert all(torch.equal(loaded[k], record["motion"][k]) for k in loaded)
    assert run.motion_record["path"] == str(path) and len(run.motion_record["sha256"]) == 64

    out = train(tiny_config("two-stage", motion_init=path, freeze_motion=True), dataset=tiny_faces())
    state = torch.load(out / "checkpoint.pt", weights_only=True)["generator"]
    motion = {k.removeprefix("motion."): v for k, v in state.items() if k.startswith("motion.")}
    assert all(torch.equal(motion[k], record["motion"][k]) for k in motion)  # frozen
    texture = [k for k in state if k.startswith("texture.")]
    assert texture and not all(torch.equal(state[k], run.generator.state_dict()[k]) for k in texture)


def test_the_motion_file_replaces_the_motion_step_of_init(tmp_path, tiny_config, tiny_faces, sliding_bars):
    record = pretrain_motion(_config(tmp_path, sliding_bars), log=lambda line: None)
    base = train(tiny_config("two-stage", out=tmp_path / "base"), dataset=tiny_faces())
    run = _Run(
        tiny_config("two-stage", init=base / "checkpoint.pt", motion_init=tmp_path / "motion.pt"),
        DistEnv(),
        torch.device("cpu"),
    )
    base_state = torch.load(base / "checkpoint.pt", weights_only=True)["generator"]
    for key, value in run.generator.state_dict().items():
        if key.startswith("motion."):
            assert torch.equal(value, record["motion"][key.removeprefix("motion.")])
        else:  # the texture step is --init's
            assert torch.equal(value, base_state[key].float())
    assert run.init_record is not None and run.motion_record is not None


def test_motion_init_mismatches_name_the_file(tmp_path, tiny_config, sliding_bars):
    pretrain_motion(_config(tmp_path, sliding_bars), log=lambda line: None)
    path = tmp_path / "motion.pt"
    with pytest.raises(
        ConfigError, match=re.escape(str(path)) + ".*channels=8 \\(run: 16\\).*--motion-init none"
    ):
        tiny_config("two-stage", motion_init=path, channels=16)
    with pytest.raises(ConfigError, match=re.escape(str(path)) + ".*no motion step"):
        tiny_config("ganimation", motion_init=path)
    with pytest.raises(ConfigError, match=r"freeze_motion.*no motion step"):
        tiny_config("ganimation", freeze_motion=True)
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a torch file")
    with pytest.raises(ConfigError, match=re.escape(str(broken))):
        tiny_config("two-stage", motion_init=broken)


def test_a_recipe_that_ships_a_motion_step_starts_motion_editors_from_it(
    tmp_path, tiny_config, sliding_bars, monkeypatch
):
    import dataclasses

    from faceedit_bench.training import recipes

    pretrain_motion(_config(tmp_path, sliding_bars, out=tmp_path / "aurig-16.pt"), log=lambda line: None)
    monkeypatch.setattr(recipes, "MOTION_ROOT", tmp_path)
    plugins.recipes.register(
        "test-motion", dataclasses.replace(recipes.CPU_64, name="test-motion", shipped_motion=True)
    )
    try:
        started = tiny_config("two-stage", recipe="test-motion")
        assert started.motion_init == tmp_path / "aurig-16.pt" and started.freeze_motion  # cpu-64's rule
        warp_only = tiny_config("warp-only", recipe="test-motion")  # nothing else to train: not frozen
        assert warp_only.motion_init == tmp_path / "aurig-16.pt" and not warp_only.freeze_motion
        with pytest.raises(ConfigError, match="nothing left to train"):
            tiny_config("warp-only", recipe="test-motion", freeze_motion=True)
        assert tiny_config("ganimation", recipe="test-motion").motion_init is None  # no motion step
        scratch = tiny_config("two-stage", recipe="test-motion", motion_init="none")
        assert scratch.motion_init is None and not scratch.freeze_motion
        with pytest.raises(ConfigError, match="identity warp"):
            tiny_config("two-stage", recipe="test-motion", motion_init="none", freeze_motion=True)
        assert (
            tiny_config("two-stage", recipe="test-motion", resolution=32).motion_init is None
        )  # none shipped
        assert tiny_config("two-stage", recipe="ganimation-paper").motion_init is None  # ships none
        # the shared file was trained with flow TV: the ablation without it needs its own
        assert tiny_config("two-stage-no-tv", recipe="test-motion").motion_init is None
        own = pretrain_motion(
            _config(
                tmp_path, sliding_bars, editor="two-stage-no-tv", out=tmp_path / "aurig-16-two-stage-no-tv.pt"
            ),
            log=lambda line: None,
        )
        assert own["config"]["flow_tv"] == 0.0  # the editor's regulariser off in pre-training too
        no_tv = tiny_config("two-stage-no-tv", recipe="test-motion")
        assert no_tv.motion_init == tmp_path / "aurig-16-two-stage-no-tv.pt" and no_tv.freeze_motion
        assert tiny_config("two-stage", recipe="test-motion").motion_init == tmp_path / "aurig-16.pt"
    finally:
        plugins.recipes.unregister("test-motion")
