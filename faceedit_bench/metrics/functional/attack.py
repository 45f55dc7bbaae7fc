"""White-box L-inf attacks on a differentiable AU judge (projected gradient descent).

Madry et al., "Towards Deep Learning Models Resistant to Adversarial Attacks" (ICLR 2018):
signed-gradient steps, each projected back into the ``eps`` box around the input and
into [0, 1]. Used three ways: to train a judge that holds under attack, to audit how far
a judge can be pushed without an edit (the "attack floor" every run reports), and by
the planted-attacker tests. The returned images are 8-bit rounded (what a PNG stores),
so an attack cannot hide in sub-quantum changes.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

Judge = Callable[[torch.Tensor], torch.Tensor]


def quantise(images: torch.Tensor) -> torch.Tensor:
    """Round to the 256 levels an 8-bit image file holds."""
    return (images.clamp(0, 1) * 255).round() / 255


def pgd_toward(
    judge: Judge,
    images: torch.Tensor,
    target: torch.Tensor,
    eps: float,
    steps: int = 40,
    step_size: float | None = None,
    random_start: bool = False,
    generator: torch.Generator | None = None,
    rounded: bool = True,
) -> torch.Tensor:
    """Images within ``eps`` (L-inf, 0-1 scale) of ``images`` that the judge reads as close to ``target``.

    Minimises the L1 distance between ``judge(x)`` and ``target`` over NaN-free target
    entries. ``step_size`` defaults to ``max(eps / 8, 0.25 / 255)``.
    """
    x0 = images.detach().float()
    alpha = step_size if step_size is not None else max(eps / 8, 0.25 / 255)
    known = ~torch.isnan(target)
    goal = torch.nan_to_num(target)
    x = x0.clone()
    if random_start:
        noise = torch.rand(x.shape, generator=generator, device=x.device) * 2 - 1
        x = (x + eps * noise).clamp(0, 1)
    for _ in range(steps):
        x.requires_grad_(True)
        loss = ((judge(x) - goal).abs() * known).sum()
        (grad,) = torch.autograd.grad(loss, x)
        with torch.no_grad():
            x = torch.minimum(torch.maximum(x - alpha * grad.sign(), x0 - eps), x0 + eps).clamp(0, 1)
    x = x.detach()
    return quantise(x).clamp(x0 - eps - 0.5 / 255, x0 + eps + 0.5 / 255) if rounded else x


def pgd_away(
    judge: Judge,
    images: torch.Tensor,
    loss_fn: Callable[[torch.Tensor], torch.Tensor],
    eps: float,
    steps: int,
    step_size: float,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Images within ``eps`` of ``images`` that maximise ``loss_fn(judge(x))`` (random start, unrounded).

    The inner maximisation of adversarial training.
    """
    x0 = images.detach()
    x = (x0 + eps * (torch.rand(x0.shape, generator=generator, device=x0.device) * 2 - 1)).clamp(0, 1)
    for _ in range(steps):
        x.requires_grad_(True)
        (grad,) = torch.autograd.grad(loss_fn(judge(x)), x)
        with torch.no_grad():
            x = torch.minimum(torch.maximum(x + step_size * grad.sign(), x0 - eps), x0 + eps).clamp(0, 1)
    return x.detach()
