"""Loss terms: non-negative where they should be, and reacting to what they penalise."""

import torch

from faceedit_bench.training import losses
from faceedit_bench.training.critic import Critic


def test_au_loss_is_mse_and_ignores_unknown_targets():
    pred, target = torch.rand(4, 17), torch.rand(4, 17)
    torch.testing.assert_close(
        losses.au_regression_loss(pred, target), torch.nn.functional.mse_loss(pred, target)
    )
    target_nan = target.clone()
    target_nan[:, 0] = float("nan")
    value = losses.au_regression_loss(pred, target_nan)
    assert torch.isfinite(value) and 0 <= value < losses.au_regression_loss(pred, target) + 1e-6


def test_mask_losses_follow_ganimation_and_react():
    keep = torch.ones(2, 1, 8, 8)
    assert losses.mask_mean_loss(keep) == 1.0  # M = 1 (keep the input) is what is penalised
    assert losses.mask_mean_loss(torch.zeros(2, 1, 8, 8)) == 0.0
    assert losses.mask_smooth_loss(keep, global_batch=2) == 0.0
    checker = (torch.arange(64).view(8, 8) % 2).float().expand(2, 1, 8, 8)
    assert (
        losses.mask_smooth_loss(checker, global_batch=2)
        > losses.mask_smooth_loss(checker * 0.1, global_batch=2)
        > 0
    )
    # summed over the global batch: per-sample sums times the batch size
    one = losses.mask_smooth_loss(checker[:1], global_batch=1)
    torch.testing.assert_close(losses.mask_smooth_loss(checker, global_batch=2), 2 * one)


def test_cycle_and_wgan_terms():
    x = torch.rand(2, 3, 8, 8)
    assert losses.cycle_loss(x, x) == 0 and losses.cycle_loss(x + 0.1, x) > 0
    real, fake = torch.tensor([2.0, 2.0]), torch.tensor([-1.0, -1.0])
    assert losses.wgan_critic_loss(real, fake) == -3.0  # the critic minimises it: separating lowers it
    assert losses.wgan_generator_loss(fake) == 1.0


def test_gradient_penalty_is_non_negative_and_zero_for_unit_gradients():
    x = torch.rand(3, 3, 4, 4, requires_grad=True)
    w = torch.zeros(3, 3, 4, 4)
    w[:, 0, 0, 0] = 1.0  # score = x[0,0,0]: gradient norm exactly 1
    assert losses.gradient_penalty((x * w).flatten(1).sum(1), x).abs() < 1e-6
    assert losses.gradient_penalty((x * 3 * w).flatten(1).sum(1), x) > 1


def test_critic_outputs_patches_and_aus():
    critic = Critic(32, channels=8)
    scores, aus = critic(torch.rand(2, 3, 32, 32))
    assert scores.shape == (2, 1, 2, 2) and aus.shape == (2, 17)
