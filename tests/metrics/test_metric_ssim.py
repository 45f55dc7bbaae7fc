import math

import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity

from faceedit_bench.api.editor import EditOutput
from faceedit_bench.metrics.functional.ssim import ssim_map
from faceedit_bench.metrics.metric_ssim import PairedSSIM

SK = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0, channel_axis=0)


def _smooth_pair(n: int, size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    base = torch.nn.functional.interpolate(torch.rand(n, 3, 6, 6, generator=g), size=size, mode="bilinear")
    return base, (base + 0.08 * torch.randn(n, 3, size, size, generator=g)).clamp(0, 1)


def test_ssim_matches_skimage(make_step, pair_batch):
    target, edited = _smooth_pair(3, 28, seed=3)
    batch = pair_batch(n=3, size=28)
    batch.target_image = target
    out = PairedSSIM().update(make_step(batch, EditOutput(edited)))
    for i in range(3):
        ref = structural_similarity(edited[i].double().numpy(), target[i].double().numpy(), **SK)
        assert math.isclose(out["ssim"][i].item(), ref, rel_tol=1e-9, abs_tol=1e-12)
    same = PairedSSIM().update(make_step(batch, EditOutput(target.clone())))
    assert torch.allclose(same["ssim"], torch.ones(3, dtype=torch.float64))


def test_ssim_masked_means_of_skimage_map(make_step, pair_batch):
    target, edited = _smooth_pair(2, 26, seed=4)
    mask = torch.zeros(2, 1, 26, 26)
    mask[0, :, 8:18, 6:20] = 1
    mask[1, :, :3, :] = 1  # lies entirely in the 5-px border that SSIM ignores
    batch = pair_batch(n=2, size=26)
    batch.target_image, batch.texture_mask = target, mask
    out = PairedSSIM().update(make_step(batch, EditOutput(edited)))
    a, b = edited.double().numpy(), target.double().numpy()
    _, full = structural_similarity(a[0], b[0], full=True, **SK)
    s = full.mean(axis=0)[5:-5, 5:-5]  # channel mean of skimage's map, cropped as skimage does
    m = mask[0, 0, 5:-5, 5:-5].numpy() > 0.5
    assert math.isclose(out["ssim_in_mask"][0].item(), s[m].mean(), rel_tol=1e-9)
    assert math.isclose(out["ssim_out_mask"][0].item(), s[~m].mean(), rel_tol=1e-9)
    w = m.mean()  # the two regions recombine into the whole-image value
    whole = w * out["ssim_in_mask"][0] + (1 - w) * out["ssim_out_mask"][0]
    assert math.isclose(whole.item(), out["ssim"][0].item(), rel_tol=1e-12)
    assert math.isnan(out["ssim_in_mask"][1]) and np.isfinite(out["ssim_out_mask"][1].item())


def test_ssim_rejects_images_smaller_than_window():
    with pytest.raises(ValueError, match="window"):
        ssim_map(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8))
