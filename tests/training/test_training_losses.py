"""Loss terms: non-negative where they should be, and reacting to what they penalise."""

import torch

from faceedit_bench.editors.warp import displacement_pixels, identity_grid
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


def test_texture_change_terms_see_only_what_the_texture_step_changed():
    from faceedit_bench.editors.output import GeneratorOutput
    from faceedit_bench.editors.spec import TWO_STAGE
    from faceedit_bench.training.steps import StepContext, _regularisers

    spec = TWO_STAGE.with_overrides(
        lambda_texture_change=2.0, lambda_texture_tv=3.0, lambda_texture_chroma=1.0, lambda_flow_mag=0.0
    )
    ctx = StepContext(spec, 2, None, torch.device("cpu"), False, False, 8)  # type: ignore[arg-type]
    inputs, warped = torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8)
    mask = torch.ones(2, 1, 8, 8)
    kept = _regularisers(GeneratorOutput(images=warped, mask=mask, warped=warped), inputs, ctx)
    assert kept["g/texture_change"] == 0 and kept["g/texture_tv"] == 0  # the warp alone is free
    painted = warped.clone()
    painted[..., 2:4, 2:4] += 0.5  # a small colour mark
    terms = _regularisers(GeneratorOutput(images=painted, mask=mask, warped=warped), inputs, ctx)
    torch.testing.assert_close(terms["g/texture_change"], torch.tensor(2.0 * 0.5 * 4 / 64))
    assert terms["g/texture_tv"] > 0
    smooth = warped + 0.5 * 4 / 64  # the same total change spread evenly: no TV
    flat = _regularisers(GeneratorOutput(images=smooth, mask=mask, warped=warped), inputs, ctx)
    assert flat["g/texture_tv"] < 1e-6 < terms["g/texture_tv"]
    assert terms["g/texture_chroma"] < 1e-6  # the mark is grey: shading costs no chroma
    tinted = warped.clone()
    tinted[:, 0, 2:4, 2:4] += 0.5  # the same mark in red only
    hue = _regularisers(GeneratorOutput(images=tinted, mask=mask, warped=warped), inputs, ctx)
    assert hue["g/texture_chroma"] > 0.01
    # without a motion step the change is measured against the input
    assert _regularisers(GeneratorOutput(images=inputs, mask=mask), inputs, ctx)["g/texture_change"] == 0


def test_flow_tv_is_zero_for_identity_and_translation_and_grows_with_roughness():
    ident = identity_grid(2, 16, 16)
    assert losses.flow_tv_loss(ident) < 1e-6
    assert losses.flow_tv_loss(ident + 0.1) < 1e-5  # constant shift is smooth
    g = torch.Generator().manual_seed(0)
    smooth = ident + 0.02 * torch.sin(torch.linspace(0, 3, 16)).view(1, 1, 16, 1)
    rough = ident + 0.02 * torch.randn(2, 16, 16, 2, generator=g)
    assert 0 <= losses.flow_tv_loss(smooth) < losses.flow_tv_loss(rough)


def test_bias_reduce_penalises_a_mean_shift_only():
    ident = identity_grid(1, 8, 8)
    assert losses.bias_reduce_loss(ident) < 1e-10
    shifted = ident + 2 / 8  # one pixel in x and y
    torch.testing.assert_close(losses.bias_reduce_loss(shifted), torch.tensor(1.0), atol=1e-5, rtol=0)
    torch.testing.assert_close(
        displacement_pixels(shifted)[0, 0, 0], torch.tensor([1.0, 1.0]), atol=1e-5, rtol=0
    )


def test_flow_magnitude_is_zero_at_identity_and_measures_pixels():
    ident = identity_grid(2, 8, 8)
    assert losses.flow_magnitude_loss(ident) < 1e-6
    shifted = ident.clone()
    shifted[..., 0] += 3 * 2 / 8  # three pixels in x
    torch.testing.assert_close(losses.flow_magnitude_loss(shifted), torch.tensor(3.0), atol=1e-5, rtol=0)


def test_flow_tv_sums_the_mean_row_and_column_steps_of_the_displacement():
    g = torch.Generator().manual_seed(1)
    grid = identity_grid(2, 6, 9) + 0.05 * torch.randn(2, 6, 9, 2, generator=g)
    disp = displacement_pixels(grid)  # (N, H, W, 2)
    along_w = (disp[:, :, 1:] - disp[:, :, :-1]).abs().mean()
    along_h = (disp[:, 1:] - disp[:, :-1]).abs().mean()
    torch.testing.assert_close(losses.flow_tv_loss(grid), along_w + along_h)
