"""A textbook GANimation training iteration: the yardstick our trainer is timed against.

Follows the training procedure of GANimation's public PyTorch code (Pumarola et al.,
ECCV 2018; albertpumarola/GANimation, ``optimize_parameters``) as written there,
with the same networks and loss terms as ours, so that only the step mechanics differ:

* critic: the generator's edit is made with autograd on and then detached; real and
  fake go through the critic in two forward passes; the gradient penalty is a third
  forward with its own backward and its own optimiser step;
* generator: the critic's weights keep ``requires_grad`` (their gradients are
  computed, then thrown away by the next ``zero_grad``); the cycle is a second
  generator pass.

Our trainer (:mod:`faceedit_bench.training.steps`) instead freezes the critic during
the generator step, scores real, fake and interpolates in one critic pass with one
optimiser step, and reuses the generator step's edit for the critic.
"""

from __future__ import annotations

import torch
from torch import nn

from faceedit_bench.api.aus import AU_MAX
from faceedit_bench.editors.spec import EditorSpec
from faceedit_bench.training import losses
from faceedit_bench.training.steps import Batch


def textbook_iteration(
    generator: nn.Module,
    critic: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    b: Batch,
    spec: EditorSpec,
) -> None:
    """One critic step and one generator step, the textbook way."""
    n = b.real.shape[0]
    fake = generator(b.real, b.target_aus).images  # graph built, then cut
    real_score, real_au = critic(b.real)
    fake_score, _ = critic(fake.detach())
    loss_d = losses.wgan_critic_loss(real_score.flatten(1).mean(1), fake_score.flatten(1).mean(1))
    loss_d = loss_d + losses.au_regression_loss(real_au, b.aus / AU_MAX) * (spec.lambda_au / n)
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()

    interp = (b.alpha * b.real + (1 - b.alpha) * fake.detach()).requires_grad_(True)
    interp_score, _ = critic(interp)
    loss_gp = losses.gradient_penalty(interp_score.flatten(1).mean(1), interp) * spec.lambda_gp
    opt_d.zero_grad()
    loss_gp.backward()
    opt_d.step()

    out = generator(b.real, b.target_aus)
    score, au_pred = critic(out.images)
    loss_g = losses.wgan_generator_loss(score)
    loss_g = loss_g + losses.au_regression_loss(au_pred, b.target_aus / AU_MAX) * (spec.lambda_au / n)
    rec = generator(out.images, b.aus)
    loss_g = loss_g + losses.cycle_loss(rec.images, b.real) * spec.lambda_cycle
    if out.mask is not None:
        loss_g = loss_g + losses.mask_mean_loss(out.mask) * spec.lambda_mask
        loss_g = loss_g + losses.mask_smooth_loss(out.mask, n) * spec.lambda_mask_smooth
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
