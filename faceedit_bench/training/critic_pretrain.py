"""Pre-train the critic's AU head on an editor training split (the CPU recipe's warm-up).

    python -m faceedit_bench.training.critic_pretrain --dataset aurig --resolution 64 \\
        --out faceedit_bench/assets/critics/aurig-64.pt

Why (measured, see README "Training recipes"): the generator's only AU signal is the
critic's AU head (GANimation, Pumarola et al. 2018). Trained jointly from scratch, the
head of a 64 px critic still reads real AU-rig faces at MAE ~0.6 after 1,000 steps
(predicting the mean scores 0.78), so the generator learns to fool a head that cannot
read AUs. This trains the same critic network with the same AU-regression loss on
real training images only, once, and every editor of the recipe starts its critic
from the result (``train --critic-init``), so the comparison stays fair. Only the
editors' own training split is used: never the AU-rig judges' weights, outputs or
reference split. The file holds tensors and plain values only (``weights_only``).
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from faceedit_bench.api.aus import AU_MAX
from faceedit_bench.config import config_to_json, option, require_positive
from faceedit_bench.data.images import at_resolution
from faceedit_bench.io import torch_save_atomic
from faceedit_bench.training import losses
from faceedit_bench.training import pretrain_files as files
from faceedit_bench.training.augment import colour_blobs
from faceedit_bench.training.critic import Critic
from faceedit_bench.training.pretrain_files import CRITIC_FORMAT


@dataclass
class CriticPretrainConfig:
    """Options of one critic pre-training run."""

    out: Path = option(help="output file (critic weights + record); a partial run resumes from OUT.partial")
    dataset: str = option("aurig", help="registered FaceDataset (its train split; val split to score)")
    dataset_args: dict[str, Any] = option({}, help="dataset constructor arguments")
    resolution: int = option(64, help="image size in pixels")
    critic_channels: int = option(32, help="critic base channels (must match the training run)")
    critic_max_channels: int = option(256, help="critic channel cap (must match the training run)")
    steps: int = option(3000, help="optimiser steps")
    batch_size: int = option(32, help="images per step")
    lr: float = option(1e-3, help="Adam learning rate (cosine decay to 0)")
    seed: int = option(0, help="seed of the weights and batches")
    threads: int | None = option(None, help="torch intra-op threads")
    val_size: int = option(512, help="val images scored at the end and every --ckpt-every steps")
    ckpt_every: int = option(500, help="score the val images and write OUT.partial every this many steps")
    au_aug: float = option(
        0.0,
        help="also regress each batch's AUs on a copy with AU-free colour blobs + noise of this strength "
        "(faceedit_bench.training.augment; 0 = off)",
    )
    adv_eps: float = option(
        0.0, help="FGSM adversarial training radius (L-inf, images in [0, 1]); 0 = plain training"
    )

    def validate(self) -> None:
        require_positive(
            self,
            "resolution",
            "critic_channels",
            "critic_max_channels",
            "steps",
            "batch_size",
            "val_size",
            "ckpt_every",
            "lr",
        )


def _dataset(config: CriticPretrainConfig, split: str):
    return files.split_dataset(config.dataset, config.dataset_args, split, config.resolution)


def fgsm(critic: Critic, images: torch.Tensor, target: torch.Tensor, eps: float) -> torch.Tensor:
    """One signed-gradient step of size ``eps`` that raises the AU error (Goodfellow et al., ICLR 2015)."""
    x = images.detach().requires_grad_(True)
    _, pred = critic(x)
    (grad,) = torch.autograd.grad(losses.au_regression_loss(pred, target), x)
    return (images + eps * grad.sign()).clamp(0, 1).detach()


@torch.no_grad()
def au_mae(critic: Critic, images: torch.Tensor, aus: torch.Tensor) -> float:
    """Mean absolute AU error (0-5 scale) of the critic's head over known labels."""
    _, pred = critic(images)
    pred = pred.float() * AU_MAX
    known = ~torch.isnan(aus)
    return float((pred - aus).abs()[known].mean())


def pretrain_critic(config: CriticPretrainConfig, log: Any = print) -> dict[str, Any]:
    """Train the critic on AU regression only; writes ``config.out``; returns the record."""
    if config.threads:
        torch.set_num_threads(config.threads)
    train_set = _dataset(config, "train")
    try:
        val_set = _dataset(config, "val")
    except Exception:  # a dataset without a val split is scored on its training images
        val_set = train_set
    n_val = min(config.val_size, len(val_set))
    val = val_set.get_batch(torch.linspace(0, len(val_set) - 1, n_val).round().long().tolist())
    val_x, val_aus = at_resolution(val.images.float(), config.resolution), val.aus.float()

    torch.manual_seed(config.seed)
    critic = Critic(config.resolution, config.critic_channels, config.critic_max_channels)
    opt = torch.optim.Adam(critic.parameters(), lr=config.lr, betas=(0.9, 0.999))
    rng = torch.Generator().manual_seed(config.seed)
    partial = Path(f"{config.out}.partial")
    step, elapsed, curve = files.resume(partial, config_to_json(config), "critic", critic, opt, rng, log)
    t0 = time.perf_counter() - elapsed
    while step < config.steps:
        for group in opt.param_groups:
            group["lr"] = config.lr * 0.5 * (1 + math.cos(math.pi * step / config.steps))
        got = train_set.get_batch(torch.randint(len(train_set), (config.batch_size,), generator=rng).tolist())
        images, target = at_resolution(got.images.float(), config.resolution), got.aus.float() / AU_MAX
        if config.adv_eps > 0:
            images = fgsm(critic, images, target, config.adv_eps)
        if config.au_aug > 0:
            images = torch.cat([images, colour_blobs(images, rng, config.au_aug)])
            target = torch.cat([target, target])
        _, pred = critic(images)
        loss = losses.au_regression_loss(pred, target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if step % config.ckpt_every == 0 or step == config.steps:
            mae = au_mae(critic, val_x, val_aus)
            elapsed = time.perf_counter() - t0
            curve.append({"step": step, "time_s": round(elapsed, 1), "val_au_mae": round(mae, 4)})
            log(f"step {step}/{config.steps} {elapsed:.0f}s val AU MAE {mae:.3f}")
            files.save_partial(
                partial, config_to_json(config), "critic", critic, opt, rng, step, elapsed, curve
            )
    mean_mae = float((val_aus - train_set.get_batch(list(range(min(2000, len(train_set))))).aus.float()
                      .nanmean(0)).abs().nanmean())  # fmt: skip
    record = {
        "format": CRITIC_FORMAT,
        "resolution": config.resolution,
        "critic_channels": config.critic_channels,
        "critic_max_channels": config.critic_max_channels,
        "dataset": config.dataset,
        "config": config_to_json(config),
        "steps": step,
        "wall_time_s": round(time.perf_counter() - t0, 1),
        "val_au_mae": curve[-1]["val_au_mae"],
        "val_au_mae_predict_train_mean": round(mean_mae, 4),
        "curve": curve,
        "critic": critic.state_dict(),
    }
    torch_save_atomic(record, config.out)
    partial.unlink(missing_ok=True)
    return record


def main(argv: list[str] | None = None) -> int:
    return files.cli(
        "critic_pretrain",
        __doc__,
        CriticPretrainConfig,
        pretrain_critic,
        lambda config, record: (
            f"{config.out}: val AU MAE {record['val_au_mae']} (predicting the mean: "
            f"{record['val_au_mae_predict_train_mean']}) after {record['steps']} steps, {record['wall_time_s']} s"
        ),
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
