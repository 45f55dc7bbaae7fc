"""Grid parametrisations (DAE increments, bounded displacement) and warping."""

import torch

from faceedit_bench.editors.warp import (
    MAX_DISPLACEMENT,
    apply_warp,
    displacement_pixels,
    displacement_to_grid,
    identity_grid,
    increments_to_grid,
)


def test_zero_increments_give_identity_grid_and_identity_warp():
    raw = torch.zeros(2, 2, 16, 12)
    grid = increments_to_grid(raw)
    assert grid.shape == (2, 16, 12, 2)
    torch.testing.assert_close(grid, identity_grid(2, 16, 12), atol=1e-6, rtol=0)
    img = torch.rand(2, 3, 16, 12)
    torch.testing.assert_close(apply_warp(img, grid), img, atol=1e-5, rtol=0)


def test_zero_displacement_gives_identity_and_a_local_change_stays_local():
    raw = torch.zeros(1, 2, 16, 16)
    torch.testing.assert_close(displacement_to_grid(raw), identity_grid(1, 16, 16), atol=0, rtol=0)
    raw[0, 0, 5, 5] = 100.0  # saturates: the largest displacement, at one pixel only
    moved = displacement_pixels(displacement_to_grid(raw))[0].norm(dim=-1)
    assert moved[5, 5] == torch.tensor(MAX_DISPLACEMENT * 16 / 2)
    moved[5, 5] = 0
    assert moved.max() == 0  # unlike increments, no other pixel of the row or column moves


def test_one_increment_moves_the_rest_of_its_row():
    raw = torch.zeros(1, 2, 16, 16)
    raw[0, 0, 5, 5] = 3.0
    moved = displacement_pixels(increments_to_grid(raw))[0, 5, :, 0].abs()
    assert (moved[5:] > 0.5).all() and (moved[:5] < 1e-6).all()


def test_identity_grid_matches_grid_sample_convention():
    grid = identity_grid(1, 8, 8)
    ref = torch.nn.functional.affine_grid(torch.eye(2, 3)[None], (1, 1, 8, 8), align_corners=False)
    torch.testing.assert_close(grid, ref, atol=1e-6, rtol=0)


def test_random_increments_give_a_fold_free_grid():
    grid = increments_to_grid(torch.randn(3, 2, 16, 16) * 3)
    assert (grid[..., 0].diff(dim=2) >= 0).all()
    assert (grid[..., 1].diff(dim=1) >= 0).all()


def test_translation_grid_shifts_the_image():
    img = torch.zeros(1, 1, 8, 8)
    img[..., 3, 3] = 1
    grid = identity_grid(1, 8, 8).clone()
    grid[..., 0] -= 2 / 8  # sample one pixel to the left: content moves right
    out = apply_warp(img, grid)
    assert out[0, 0, 3, 4] > 0.99
