"""AU-rig renderer: determinism, exact ground truth, AU locality."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from faceedit_bench.api.aus import AU_NAMES, N_AUS
from faceedit_bench.aurig import deform
from faceedit_bench.aurig.dataset import AuRigDataset
from faceedit_bench.aurig.render import pixel_grid, render, render_pair, to_face

torch.set_num_threads(1)


def _psnr(a: torch.Tensor, b: torch.Tensor, w: torch.Tensor) -> float:
    """PSNR over the pixels where ``w`` (N,1,H,W) is 1."""
    err = ((a - b) ** 2 * w).sum() / (w.sum() * 3)
    return float(-10 * torch.log10(err))


@pytest.fixture(scope="module")
def ds() -> AuRigDataset:
    return AuRigDataset("test", 48, size=200)


def test_same_seed_same_bytes_and_batch_independent(ds: AuRigDataset) -> None:
    a = ds.get_batch([3, 17, 150]).images
    b = AuRigDataset("test", 48, size=200).get_batch([3, 17, 150]).images
    assert torch.equal(a, b)
    alone = ds.get_batch([17]).images
    assert torch.equal(alone[0], a[1])  # windows/chunks never change a pixel
    other = AuRigDataset("test", 48, size=200, seed=1).get_batch([3]).images
    assert not torch.equal(other[0], a[0])


def test_feature_windows_cut_nothing_at_128px(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every feature's window holds all of it: windowed == drawn over the whole image.

    At 128 px the nose-bridge shading once reached past its box, so a pixel depended
    on which other faces shared its chunk (up to 0.012).
    """
    from faceedit_bench.aurig import render as render_module
    from faceedit_bench.aurig.identity import sample_identities

    ident = sample_identities(np.arange(1000, 1016, dtype=np.int64))  # 1004 used to fail
    aus = torch.rand(16, N_AUS, generator=torch.Generator().manual_seed(0)) * 5
    windowed = render(ident, aus, 128).images
    monkeypatch.setattr(
        render_module,
        "pixel_windows",
        lambda _i, res, boxes, _m: [(slice(0, res), slice(0, res))] * len(boxes),
    )
    whole = render(ident, aus, 128).images
    assert torch.equal(windowed, whole)


def test_images_are_valid_and_varied(ds: AuRigDataset) -> None:
    b = ds.get_batch(range(0, 200, 10))
    assert b.images.shape == (20, 3, 48, 48) and b.images.dtype == torch.float32
    assert float(b.images.min()) >= 0 and float(b.images.max()) <= 1
    assert len(set(b.identity_ids)) == 20
    # different identities look different
    assert float((b.images[0] - b.images[1]).abs().mean()) > 0.02


def test_all_aus_zero_is_the_neutral_face(ds: AuRigDataset) -> None:
    ident = ds.identities([0, 1])
    zeros = torch.zeros(2, N_AUS)
    assert float(deform.field_grid(ident, zeros).abs().max()) == 0.0
    pair = render_pair(ident, zeros, zeros, 48)
    assert torch.equal(pair.source.images, pair.target.images)
    assert torch.allclose(pair.flow, pixel_grid(48).expand(2, -1, -1, -1))
    assert float(pair.texture_mask.sum()) == 0.0
    # and rendering through the pair path equals the single-image path
    assert torch.equal(pair.source.images, render(ident, zeros, 48).images)


def test_warp_is_invertible_for_realistic_expressions() -> None:
    big = AuRigDataset("train", 32, size=1500)
    idx = np.arange(1500)
    grid = deform.field_grid(big.identities(idx // 10), big.aus(idx))
    det = (1 - grid[:, 2]) * (1 - grid[:, 5]) - grid[:, 3] * grid[:, 4]
    assert float(det.min()) >= deform.MIN_DET - 1e-6
    # the guard never has to damp the realistic distribution
    a, b, c, d = grid[:, 2], grid[:, 3], grid[:, 4], grid[:, 5]
    assert torch.all(deform._fold_guard(torch.stack([a, a, a, b, c, d], 1)) == 1.0)


def test_newton_inverse_solves_the_warp(ds: AuRigDataset) -> None:
    ident = ds.identities([0, 1, 2])
    aus = torch.zeros(3, N_AUS)
    aus[0, AU_NAMES.index("AU26")] = 5
    aus[1, AU_NAMES.index("AU12")] = 5
    aus[2] = 2.5
    grid = deform.field_grid(ident, aus)
    c = to_face(ident, pixel_grid(48))
    q, residual, det = deform.invert_warp(grid, c)
    assert float(residual.max()) < 5e-4  # face units; 0.015 px at 64 px
    assert torch.allclose(deform.warp_to_canonical(grid, q), c, atol=5e-4)
    assert float(det.min()) > 0


def test_true_flow_reproduces_target_outside_the_mask() -> None:
    """At 64 px: >= 30 dB outside the texture mask; inside, warping cannot explain the target."""
    ds = AuRigDataset("test", 64, size=400)
    pb = ds.make_pairs(24, seed=5).batch(range(24))
    warped = F.grid_sample(pb.source, pb.flow, mode="bilinear", padding_mode="border", align_corners=False)
    outside, inside = 1 - pb.texture_mask, pb.texture_mask
    assert float(inside.sum()) > 50
    psnr_out = _psnr(warped, pb.target_image, outside)
    psnr_in = _psnr(warped, pb.target_image, inside)
    psnr_identity = _psnr(pb.source, pb.target_image, outside)
    assert psnr_out >= 30.0
    assert psnr_in < psnr_out - 10
    assert psnr_out > psnr_identity + 3  # the flow explains real motion


# canonical face-space y-range each AU may touch (face spans y in about [-0.8, 0.8])
_REGIONS = {
    **dict.fromkeys(("AU01", "AU02", "AU04", "AU05", "AU07", "AU45"), (-0.75, 0.15)),
    "AU06": (-0.3, 0.5),
    "AU09": (-0.4, 0.5),
    **dict.fromkeys(("AU10", "AU12", "AU14", "AU15", "AU20", "AU23", "AU25"), (0.05, 0.8)),
    **dict.fromkeys(("AU17", "AU26"), (0.05, 1.2)),
}


@pytest.mark.parametrize("au", AU_NAMES)
def test_each_au_alone_changes_only_its_region(ds: AuRigDataset, au: str) -> None:
    ident = ds.identities([4, 9])
    aus = torch.zeros(4, N_AUS)
    aus[2:, AU_NAMES.index(au)] = 5.0
    img = render(ident.index([0, 1, 0, 1]), aus, 48).images
    changed = (img[2:] - img[:2]).abs().amax(1) > 0.02  # (2, H, W)
    assert int(changed.sum()) >= 3, f"{au} at 5 changes nothing visible"
    y = to_face(ident, pixel_grid(48))[..., 1]
    lo, hi = _REGIONS[au]
    assert bool(((y[changed] >= lo) & (y[changed] <= hi)).all()), (
        f"{au} changes pixels outside y in [{lo}, {hi}]"
    )
    # and the image border (background) never changes
    assert not bool(changed[:, :, :3].any() or changed[:, :, -3:].any())


def test_bad_resolution_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="resolution"):
        AuRigDataset("train", 16)


def test_rendering_runs_single_threaded_and_restores_the_setting() -> None:
    from faceedit_bench.aurig.threads import single_thread

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with single_thread():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        AuRigDataset("test", 32, size=20).get_batch([0, 1])
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
