"""Named recipes, the critic's AU pre-training and the warm-up phase of the trainer."""

import pytest
import torch

from faceedit_bench import plugins
from faceedit_bench.config import ConfigError, build_config
from faceedit_bench.io import read_jsonl
from faceedit_bench.training import train
from faceedit_bench.training.checkpoint import load_checkpoint
from faceedit_bench.training.config import TrainConfig
from faceedit_bench.training.critic_pretrain import CriticPretrainConfig, pretrain_critic
from faceedit_bench.training.distributed import DistEnv
from faceedit_bench.training.loop import _Run
from faceedit_bench.training.pretrain_files import load_critic_init


@pytest.mark.parametrize(
    "name",
    ["cpu-64", pytest.param("ganimation-paper", marks=pytest.mark.slow)],  # 128 px, 45 M-param critic
)
@pytest.mark.parametrize("editor", ["two-stage", "ganimation"])
def test_each_recipe_builds_and_takes_a_training_step(name, editor, tiny_faces, tmp_path):
    recipe = plugins.recipes.get(name)
    res = recipe.values["resolution"]
    config = build_config(
        TrainConfig, editor=editor, recipe=name, batch_size=2, steps=2, out=tmp_path / name, val_every=0,
        val_size=2, progress=False, device="cpu", threads=1, au_detector="none", critic_init=None,
    )  # fmt: skip
    # the recipe filled what was left unset; explicit values won
    assert config.resolution == res and config.g_every == recipe.values["g_every"]
    assert config.critic_max_channels == recipe.values["critic_max_channels"] and config.batch_size == 2
    assert config.editor_spec().upsample == recipe.values["upsample"]
    out = train(config, dataset=tiny_faces(n=4, resolution=res))
    state = load_checkpoint(out / "checkpoint.pt")
    assert state["step"] == 2 and state["config"]["recipe"] == name
    rows = [r for r in read_jsonl(out / "metrics.jsonl") if r["kind"] == "train"]
    assert all(torch.isfinite(torch.tensor(r["d/total"])) for r in rows)
    if recipe.values["g_every"] == 1:
        assert "g/total" in rows[0]  # a generator step in every iteration


def test_recipe_loss_weights_sit_under_the_users(tiny_config):
    assert tiny_config().loss_weights == plugins.recipes.get("cpu-64").loss_weights
    mine = tiny_config(loss_weights={"lambda_flow_mag": 2.0, "lambda_flow_tv": 0.5})
    assert mine.editor_spec().lambda_flow_mag == 2.0 and mine.editor_spec().lambda_flow_tv == 0.5


def test_unknown_recipe_lists_the_known_ones(tiny_config):
    with pytest.raises(Exception, match="cpu-64"):
        tiny_config(recipe="cpu64")


def test_warmup_trains_only_the_critics_au_head_first(tiny_config, tiny_faces):
    config = tiny_config("two-stage", steps=6, critic_warmup_steps=3, g_every=1)
    out = train(config, dataset=tiny_faces())
    rows = [r for r in read_jsonl(out / "metrics.jsonl") if r["kind"] == "train"]
    assert [("g/total" in r) for r in rows] == [False, False, False, True, True, True]
    assert "d/gp" not in rows[0] and "d/gp" in rows[3]
    with pytest.raises(ConfigError, match="critic_warmup_steps"):
        tiny_config(steps=3, critic_warmup_steps=3)


def test_critic_pretraining_lowers_the_au_error_and_a_run_starts_from_it(tmp_path, tiny_config, bright_faces):
    out = tmp_path / "critic.pt"
    config = build_config(
        CriticPretrainConfig, out=out, dataset=bright_faces, resolution=16, critic_channels=8,
        critic_max_channels=16, steps=150, batch_size=16, lr=3e-3, val_size=64, threads=1,
    )  # fmt: skip
    record = pretrain_critic(config, log=lambda _: None)
    assert record["val_au_mae"] < record["val_au_mae_predict_train_mean"] / 2
    assert not (tmp_path / "critic.pt.partial").exists()
    weights = load_critic_init(out, 16, 8, 16)
    run_config = tiny_config("two-stage", critic_init=out, critic_max_channels=16, steps=1)
    run = _Run(run_config, DistEnv(), torch.device("cpu"))
    assert all(torch.equal(run.critic.state_dict()[k], v) for k, v in weights.items())
    with pytest.raises(ConfigError, match=r"critic\.pt"):
        tiny_config("two-stage", critic_init=out, critic_max_channels=32)  # other size: refused, file named


def test_killed_critic_pretraining_resumes_to_the_uninterrupted_result(tmp_path, bright_faces):
    def config(out, steps=40):
        return build_config(
            CriticPretrainConfig, out=out, dataset=bright_faces, resolution=16, critic_channels=8,
            critic_max_channels=16, steps=steps, batch_size=8, lr=3e-3, val_size=16, threads=1, ckpt_every=10,
        )  # fmt: skip

    whole = pretrain_critic(config(tmp_path / "whole.pt"), log=lambda _: None)

    def kill_after_step_20(line: str) -> None:
        if line.startswith("step 20/"):
            raise KeyboardInterrupt

    out = tmp_path / "killed.pt"
    with pytest.raises(KeyboardInterrupt):
        pretrain_critic(config(out), log=kill_after_step_20)
    assert not out.exists() and (tmp_path / "killed.pt.partial").is_file()
    with pytest.raises(ConfigError, match="other options"):
        pretrain_critic(config(out, steps=50), log=lambda _: None)
    lines: list[str] = []
    resumed = pretrain_critic(config(out), log=lines.append)
    # killed before step 20 was saved
    assert lines[0].startswith("resumed") and lines[0].endswith("at step 10")
    assert [{**p, "time_s": 0} for p in resumed["curve"]] == [{**p, "time_s": 0} for p in whole["curve"]]
    assert all(torch.equal(resumed["critic"][k], v) for k, v in whole["critic"].items())
    assert not (tmp_path / "killed.pt.partial").exists()


def test_critic_file_that_is_not_one_is_refused_with_its_name(tmp_path, tiny_config):
    bad = tmp_path / "nope.pt"
    torch.save({"format": "something-else"}, bad)
    with pytest.raises(ConfigError, match=r"nope\.pt"):
        tiny_config(critic_init=bad)
    bad.write_bytes(b"\x00garbage")
    with pytest.raises(ConfigError, match=r"nope\.pt"):
        tiny_config(critic_init=bad)


def _judged_au_error(generator: torch.nn.Module, images: torch.Tensor, targets: torch.Tensor) -> float:
    """AU MAE of the edits read by the AU-rig reference regressor (not the critic that trained them)."""
    from faceedit_bench.aurig.reference.backends import AuRigAUDetector

    with torch.no_grad():
        edits = generator.eval()(images, targets).images
    return float((AuRigAUDetector().detect(edits) - targets).abs().mean())


# 600 steps at 64 px, run by .ci/run's slow-test step. Measured 2026-12-02 (Intel AMX machine): AU error
# 0.935 -> 0.798 (bf16 autocast, seed 0), 0.791 (fp32), 0.940 -> 0.698 (seed 2). At 300 steps it was
# 0.907 (seed 0) and 0.821 (seed 1): too close to the start for a margin that holds on every machine.
@pytest.mark.slow
def test_a_short_run_on_aurig_lowers_the_critic_free_au_error_of_its_edits(tmp_path):
    """The recipe carries a real learning signal: after a short cpu-64 run on AU-rig the edits of a
    fixed val batch are read closer to their target AUs by the external AU-rig judge than before."""
    from faceedit_bench.aurig.dataset import AuRigDataset

    config = build_config(
        TrainConfig, editor="two-stage", steps=600, batch_size=8, channels=8, lr_g=5e-4, out=tmp_path / "run",
        val_every=0, val_size=4, progress=False, device="cpu", threads=1, au_detector="none", ckpt_every=600,
        motion_init="none",  # the shipped motion step is 16 channels wide; its pre-training: test_motion_pretrain
    )  # fmt: skip
    assert config.critic_init is not None  # the recipe's shipped pre-trained critic
    val = AuRigDataset("val", 64).get_batch(list(range(0, 2000, 63)))
    images, targets = val.images.float(), val.aus.float().roll(1, dims=0)
    before = _judged_au_error(_Run(config, DistEnv(), torch.device("cpu")).generator, images, targets)
    out = train(config)
    from faceedit_bench.editors.generator import build_generator
    from faceedit_bench.editors.spec import EditorSpec

    state = load_checkpoint(out / "checkpoint.pt")
    trained = build_generator(EditorSpec.from_json(state["spec"]))
    trained.load_state_dict(state["generator"])
    after = _judged_au_error(trained, images, targets)
    assert after < before - 0.08, (before, after)
