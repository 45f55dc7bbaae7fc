"""``--init``: fine-tuning starts from another run's (or a shipped editor's) weights."""

import json
import re

import pytest
import torch

from faceedit_bench.config import ConfigError
from faceedit_bench.io import read_jsonl
from faceedit_bench.training import train
from faceedit_bench.training.checkpoint import export_weights, load_checkpoint
from faceedit_bench.training.distributed import DistEnv
from faceedit_bench.training.loop import _Run


def _nets(config):
    run = _Run(config, DistEnv(), torch.device("cpu"))
    return run.generator.state_dict(), run.critic.state_dict(), run


def _equal(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k].float(), b[k].float()) for k in a)


def test_init_loads_generator_and_critic_with_fresh_optimisers(tiny_config, tiny_faces):
    base = train(tiny_config("two-stage", out=tiny_config().out.parent / "base"), dataset=tiny_faces())
    src = load_checkpoint(base / "checkpoint.pt")
    config = tiny_config(
        "two-stage", out=tiny_config().out.parent / "ft", seed=5, init=base / "checkpoint.pt"
    )
    gen, critic, run = _nets(config)
    assert _equal(gen, src["generator"]) and _equal(critic, src["critic"])
    assert run.step == 0 and not run.opt_g.state and not run.opt_d.state
    assert run.init_record["critic"] == "loaded" and run.init_record["step"] == 4

    out = train(config, dataset=tiny_faces())
    recorded = json.loads((out / "config.json").read_text())
    assert recorded["init"]["path"] == str(base / "checkpoint.pt") and recorded["init"]["sha256"]
    state = load_checkpoint(out / "checkpoint.pt")
    assert state["step"] == 4 and state["config"]["init"] == str(base / "checkpoint.pt")
    assert [r["step"] for r in read_jsonl(out / "metrics.jsonl") if r["kind"] == "train"] == [1, 2, 3, 4]


def test_init_from_shipped_weights_loads_the_generator_only(tiny_config, tiny_faces, tmp_path):
    base = train(tiny_config("ganimation", out=tmp_path / "base"), dataset=tiny_faces())
    weights = tmp_path / "ganimation.pt"
    export_weights(base / "checkpoint.pt", weights)  # fp16 generator, no critic (as shipped)
    gen, critic, run = _nets(tiny_config("ganimation", out=tmp_path / "ft", init=weights))
    fresh_gen, fresh_critic, _ = _nets(tiny_config("ganimation", out=tmp_path / "fresh"))
    shipped = torch.load(weights, weights_only=True)["generator"]
    assert _equal(gen, {k: v.float() for k, v in shipped.items()}) and not _equal(gen, fresh_gen)
    assert _equal(critic, fresh_critic)  # same seed: the critic is the fresh one
    assert run.init_record["critic"].startswith("fresh")


def test_init_mismatch_names_the_file(tiny_config, tiny_faces, tmp_path):
    base = train(tiny_config("two-stage", out=tmp_path / "base"), dataset=tiny_faces())
    ckpt = base / "checkpoint.pt"
    name = re.escape(str(ckpt))
    with pytest.raises(ConfigError, match=rf"{name} holds editor 'two-stage', not 'warp-only'"):
        tiny_config("warp-only", init=ckpt)
    with pytest.raises(ConfigError, match=rf"spec of {name} differs.*channels=8 \(run: 16\)"):
        tiny_config("two-stage", init=ckpt, channels=16)
    with pytest.raises(ConfigError, match=rf"{name} was trained at 16 px, this run is at 32 px"):
        tiny_config("two-stage", init=ckpt, resolution=32)
    with pytest.raises(ConfigError, match=r"missing\.pt does not exist"):
        tiny_config("two-stage", init=tmp_path / "missing.pt")
    bad_critic = tiny_config("two-stage", out=tmp_path / "bad", init=ckpt, critic_channels=4)
    with pytest.raises(ConfigError, match=rf"weights of {name} do not fit"):
        train(bad_critic, dataset=tiny_faces())


def test_init_from_shipped_weights_takes_the_pretrained_critic(
    tiny_config, tiny_faces, bright_faces, tmp_path
):
    """Shipped weights hold no critic: the fine-tune's critic starts from --critic-init (the recipe's
    pre-trained AU head by default), not from scratch, and the record says which."""
    from faceedit_bench.config import build_config
    from faceedit_bench.training.critic_pretrain import CriticPretrainConfig, pretrain_critic
    from faceedit_bench.training.pretrain_files import load_critic_init

    head = tmp_path / "critic.pt"
    pretrain_critic(
        build_config(
            CriticPretrainConfig, out=head, dataset=bright_faces, resolution=16, critic_channels=8,
            critic_max_channels=16, steps=2, batch_size=4, val_size=4, threads=1,
        ),
        log=lambda _: None,
    )  # fmt: skip
    base = train(
        tiny_config("ganimation", out=tmp_path / "base", critic_max_channels=16), dataset=tiny_faces()
    )
    weights = tmp_path / "ganimation.pt"
    export_weights(base / "checkpoint.pt", weights)
    config = tiny_config(
        "ganimation", out=tmp_path / "ft", init=weights, critic_init=head, critic_max_channels=16
    )
    _, critic, run = _nets(config)
    assert _equal(critic, load_critic_init(head, 16, 8, 16))
    assert run.init_record["critic"] == f"from {head} (the file holds generator weights only)"
