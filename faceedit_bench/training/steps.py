"""One critic step and one generator step of the shared GANimation-style trainer.

Follows GANimation's training step (Pumarola et al., ECCV 2018; official code
albertpumarola/GANimation): WGAN-GP critic with AU regression on real images; the
generator edits to the target AUs, fools the critic, matches the target AUs through
the critic's AU head and cycles back to the source. Two-stage editors add the
Deforming-Autoencoders flow regularisers on every predicted grid.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
from torch import nn

from faceedit_bench.api.aus import AU_MAX, N_AUS
from faceedit_bench.api.dataset import FaceDataset
from faceedit_bench.data.images import at_resolution
from faceedit_bench.editors.output import GeneratorOutput
from faceedit_bench.editors.spec import EditorSpec
from faceedit_bench.editors.trained import cpu_has_bf16
from faceedit_bench.training import losses
from faceedit_bench.training.augment import colour_blobs
from faceedit_bench.training.distributed import DistEnv, average_gradients, global_mean


@dataclass
class Batch:
    """This rank's share of one global training batch (images and AUs only: no ground truth)."""

    real: torch.Tensor  # (n, 3, H, W) in [0, 1]
    aus: torch.Tensor  # (n, 17) 0-5, NaN unknown
    target_aus: torch.Tensor  # (n, 17) another sample's AUs + noise
    alpha: torch.Tensor  # (n, 1, 1, 1) gradient-penalty interpolation weights
    real_perturbed: torch.Tensor | None = None  # real + AU-free colour blobs (critic_au_aug), AU head only
    partner: torch.Tensor | None = None  # lambda_pair: the same person showing target_aus (another image)


@dataclass
class StepContext:
    """What both steps need besides the batch."""

    spec: EditorSpec
    global_batch: int
    env: DistEnv
    device: torch.device
    amp: bool
    channels_last: bool
    resolution: int
    critic_au_aug: float = 0.0  # strength of the AU-free perturbations shown to the AU head (0: none)

    def autocast(self) -> contextlib.AbstractContextManager:
        """bfloat16 autocast on CUDA, and on CPUs with native bfloat16 (AMX / AVX512-BF16)."""
        if self.amp and self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        if self.amp and self.device.type == "cpu" and cpu_has_bf16():
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def layout(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x


def draw_batch(
    dataset: FaceDataset, rng: torch.Generator, global_batch: int, au_noise: float, ctx: StepContext
) -> Batch:
    """Global indices, target noise and GP weights from ``rng``; keep this rank's slice.

    Target AUs are another sample's AUs (the batch rolled by one) plus U(-au_noise,
    au_noise) on the /5 scale, as in GANimation. With ``lambda_pair`` (ours) each target is
    instead another image of the sample's person and its exact AUs. Under DDP every rank
    loads the global batch (the roll needs it) and keeps its contiguous shard.
    """
    indices = torch.randint(len(dataset), (global_batch,), generator=rng)
    noise = (torch.rand(global_batch, N_AUS, generator=rng) * 2 - 1) * au_noise * AU_MAX
    alpha = torch.rand(global_batch, 1, 1, 1, generator=rng)
    got = dataset.get_batch(indices.tolist())
    images, aus = at_resolution(got.images.float(), ctx.resolution), got.aus.float()
    target = aus.roll(1, dims=0) + noise
    partner = None
    if ctx.spec.lambda_pair:
        other = dataset.get_batch(dataset.same_identity_partners(indices.tolist(), rng))
        partner, target = at_resolution(other.images.float(), ctx.resolution), other.aus.float()
    perturbed = colour_blobs(images, rng, ctx.critic_au_aug) if ctx.critic_au_aug > 0 else None
    shard = ctx.env.shard
    dev = ctx.device
    return Batch(
        real=ctx.layout(shard(images).to(dev)),
        aus=shard(aus).to(dev),
        target_aus=shard(target).to(dev),
        alpha=shard(alpha).to(dev),
        real_perturbed=ctx.layout(shard(perturbed).to(dev)) if perturbed is not None else None,
        partner=shard(partner).to(dev) if partner is not None else None,
    )


def critic_step(
    generator: nn.Module,
    critic: nn.Module,
    opt: torch.optim.Optimizer,
    b: Batch,
    ctx: StepContext,
    fake: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    """WGAN-GP + AU regression on real images; returns detached loss terms.

    ``fake``: edits of ``b`` already made by this iteration's generator step (reused
    as in GANimation); generated here without gradients when not given. With
    ``b.real_perturbed`` the AU head also regresses the real AUs on the perturbed
    copies (ours, :mod:`faceedit_bench.training.augment`); the realism score ignores them.
    """
    spec = ctx.spec
    critic.requires_grad_(True)
    if fake is None:
        with torch.no_grad(), ctx.autocast():
            fake = generator(b.real, b.target_aus).images
    fake = fake.detach().float()
    interp = ctx.layout(b.alpha * b.real + (1 - b.alpha) * fake).requires_grad_(True)
    n = b.real.shape[0]
    extra = [] if b.real_perturbed is None else [b.real_perturbed]
    with ctx.autocast():
        scores, au_pred = critic(torch.cat([b.real, ctx.layout(fake), interp, *extra]))
    scores = scores.float().flatten(1).mean(1)
    adv = losses.wgan_critic_loss(scores[:n], scores[n : 2 * n])
    au = losses.au_regression_loss(au_pred[:n], b.aus / AU_MAX)
    if extra:
        au = (au + losses.au_regression_loss(au_pred[3 * n :], b.aus / AU_MAX)) / 2
    au = au * (spec.lambda_au / ctx.global_batch)
    gp = losses.gradient_penalty(scores[2 * n : 3 * n], interp) * spec.lambda_gp
    total = adv + au + gp
    opt.zero_grad(set_to_none=True)
    total.backward()
    average_gradients(critic, ctx.env)
    opt.step()
    return {"d/adv": adv.detach(), "d/au": au.detach(), "d/gp": gp.detach(), "d/total": total.detach()}


def critic_warmup_step(
    critic: nn.Module, opt: torch.optim.Optimizer, b: Batch, ctx: StepContext
) -> dict[str, torch.Tensor]:
    """AU regression on real training images only (ours: the warm-up before any generator step).

    The generator's only AU signal is the critic's AU head; an untrained head gives it
    none (measured: AU MAE of real faces 0.5-0.6 after 1,000 joint steps), so the
    recipe trains the head on the editor's own training split first. The judges'
    weights and data are never used.
    """
    critic.requires_grad_(True)
    n = b.real.shape[0]
    extra = [] if b.real_perturbed is None else [b.real_perturbed]
    with ctx.autocast():
        _, au_pred = critic(torch.cat([b.real, *extra]))
    au = losses.au_regression_loss(au_pred[:n], b.aus / AU_MAX)
    if extra:
        au = (au + losses.au_regression_loss(au_pred[n:], b.aus / AU_MAX)) / 2
    au = au * (ctx.spec.lambda_au / ctx.global_batch)
    opt.zero_grad(set_to_none=True)
    au.backward()
    average_gradients(critic, ctx.env)
    opt.step()
    return {"d/au": au.detach(), "d/total": au.detach()}


def _regularisers(out: GeneratorOutput, inputs: torch.Tensor, ctx: StepContext) -> dict[str, torch.Tensor]:
    """Mask, texture-change and flow regularisers of one generator call on ``inputs``."""
    spec, terms = ctx.spec, {}
    if out.mask is not None and (
        spec.lambda_texture_change or spec.lambda_texture_tv or spec.lambda_texture_chroma
    ):
        # what the texture step changed: (1 - M) * (colour - its input)
        change = (out.images - (out.warped if out.warped is not None else inputs)).float()
        if spec.lambda_texture_change:
            terms["g/texture_change"] = change.abs().mean() * spec.lambda_texture_change
        if spec.lambda_texture_tv:
            terms["g/texture_tv"] = losses.total_variation(change) * spec.lambda_texture_tv
        if spec.lambda_texture_chroma:
            chroma = change - change.mean(1, keepdim=True)
            terms["g/texture_chroma"] = chroma.abs().mean() * spec.lambda_texture_chroma
    if out.mask is not None and (spec.lambda_mask or spec.lambda_mask_smooth or spec.lambda_texture_area):
        mask = out.mask.float()
        terms["g/mask"] = losses.mask_mean_loss(mask) * spec.lambda_mask
        terms["g/mask_smooth"] = losses.mask_smooth_loss(mask, ctx.global_batch) * spec.lambda_mask_smooth
        if spec.lambda_texture_area:
            terms["g/texture_area"] = (1 - mask).mean() * spec.lambda_texture_area
    if out.grid is not None:
        if spec.lambda_flow_tv:
            terms["g/flow_tv"] = losses.flow_tv_loss(out.grid) * spec.lambda_flow_tv
        if spec.lambda_flow_mag:
            terms["g/flow_mag"] = losses.flow_magnitude_loss(out.grid) * spec.lambda_flow_mag
        if spec.lambda_flow_bias:
            mean_grid = global_mean(out.grid.mean(0, keepdim=True), ctx.env)
            terms["g/flow_bias"] = losses.bias_reduce_loss(mean_grid) * spec.lambda_flow_bias
    return terms


def pair_loss(out: GeneratorOutput, partner: torch.Tensor, spec: EditorSpec) -> torch.Tensor:
    """``lambda_pair`` x L1 to the same person showing the target AUs (on the warp with ``pair_on="warp"``)."""
    edit = out.warped if spec.pair_on == "warp" and out.warped is not None else out.images
    return (edit.float() - partner).abs().mean() * spec.lambda_pair


def generator_step(
    generator: nn.Module, critic: nn.Module, opt: torch.optim.Optimizer, b: Batch, ctx: StepContext
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Adversarial + AU + cycle + mask/flow regularisers; the critic gets no gradients.

    Returns the loss terms and the edits (made before this update) for the critic step.
    """
    spec = ctx.spec
    critic.requires_grad_(False)
    with ctx.autocast():
        out = generator(b.real, b.target_aus)
        fake = ctx.layout(out.images)
        scores, au_pred = critic(fake)
        terms = {
            "g/adv": losses.wgan_generator_loss(scores.float()),
            "g/au": losses.au_regression_loss(au_pred, b.target_aus / AU_MAX)
            * (spec.lambda_au / ctx.global_batch),
        }
        regs = [_regularisers(out, b.real, ctx)]
        if spec.lambda_pair and b.partner is not None:
            terms["g/pair"] = pair_loss(out, b.partner, spec)
        if spec.lambda_cycle:
            rec = generator(fake, b.aus)
            terms["g/cycle"] = losses.cycle_loss(rec.images.float(), b.real) * spec.lambda_cycle
            regs.append(_regularisers(rec, fake, ctx))
    for reg in regs:
        for key, value in reg.items():
            terms[key] = terms.get(key, 0) + value
    total = sum(terms.values())
    opt.zero_grad(set_to_none=True)
    total.backward()
    average_gradients(generator, ctx.env)
    opt.step()
    critic.requires_grad_(True)
    logs = {k: v.detach() for k, v in terms.items()}
    logs["g/total"] = total.detach()
    return logs, out.images.detach()
