"""Loss terms of the shared trainer as pure functions over tensors.

Adversarial and AU terms follow GANimation (Pumarola et al., ECCV 2018): WGAN-GP,
AU regression as MSE on the /5 scale weighted by lambda / batch size, L1 cycle,
attention-mask mean and summed mask TV. Flow regularisers act on the displacement in
pixels (:func:`faceedit_bench.editors.warp.displacement_pixels`): L1 TV and bias-reduce
after Deforming Autoencoders (Shu et al., ECCV 2018), the magnitude penalty ours. Every term is a mean
over samples (or a per-sample sum scaled by the global batch) so that averaging
gradients over DDP ranks equals the single-process gradient.
"""

from __future__ import annotations

import torch

from faceedit_bench.editors.warp import displacement_pixels


def wgan_critic_loss(real_score: torch.Tensor, fake_score: torch.Tensor) -> torch.Tensor:
    """``E[D(fake)] - E[D(real)]`` (the critic minimises it)."""
    return fake_score.mean() - real_score.mean()


def wgan_generator_loss(fake_score: torch.Tensor) -> torch.Tensor:
    return -fake_score.mean()


def gradient_penalty(scores: torch.Tensor, interpolates: torch.Tensor) -> torch.Tensor:
    """``E[(||grad_x D(x)||_2 - 1)^2]`` on interpolates (Gulrajani et al. 2017)."""
    (grad,) = torch.autograd.grad(scores.float().sum(), interpolates, create_graph=True)
    return (grad.float().flatten(1).norm(dim=1) - 1).pow(2).mean()


def au_regression_loss(pred: torch.Tensor, aus: torch.Tensor) -> torch.Tensor:
    """MSE between predicted AUs and ``aus`` (both /5); NaN targets are left out.

    Equals ``nn.MSELoss()`` when every target is known.
    """
    known = ~torch.isnan(aus)
    diff = torch.where(known, pred.float() - torch.nan_to_num(aus), torch.zeros_like(aus))
    return diff.pow(2).sum() / aus.numel()


def cycle_loss(reconstruction: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
    return (reconstruction - source).abs().mean()


def mask_mean_loss(mask: torch.Tensor) -> torch.Tensor:
    """GANimation's attention loss: mean(M); M = 1 keeps the input, so this stops M saturating at 1."""
    return mask.mean()


def mask_smooth_loss(mask: torch.Tensor, global_batch: int) -> torch.Tensor:
    """GANimation's mask TV: summed absolute neighbour differences over the (global) batch."""
    per_sample = (mask[..., 1:] - mask[..., :-1]).abs().flatten(1).sum(1) + (
        mask[..., 1:, :] - mask[..., :-1, :]
    ).abs().flatten(1).sum(1)
    return per_sample.mean() * global_batch


def total_variation(x: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference between horizontal and vertical neighbours."""
    return (x[..., 1:] - x[..., :-1]).abs().mean() + (x[..., 1:, :] - x[..., :-1, :]).abs().mean()


def flow_tv_loss(grid: torch.Tensor) -> torch.Tensor:
    """L1 total variation of a sampling grid's displacement (pixels per pixel)."""
    return total_variation(displacement_pixels(grid).movedim(-1, 1))


def flow_magnitude_loss(grid: torch.Tensor) -> torch.Tensor:
    """Mean displacement length in pixels (ours: keeps the warp near the identity)."""
    return displacement_pixels(grid).norm(dim=-1).mean()


def bias_reduce_loss(mean_grid: torch.Tensor) -> torch.Tensor:
    """Squared distance (in pixels) of the batch-mean grid ``(1, H, W, 2)`` to the identity."""
    return displacement_pixels(mean_grid).pow(2).mean()
