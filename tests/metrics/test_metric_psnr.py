import math

import numpy as np
import torch
from skimage.metrics import peak_signal_noise_ratio

from faceedit_bench.api.editor import EditOutput
from faceedit_bench.metrics.functional.psnr import PSNR_CAP_DB
from faceedit_bench.metrics.metric_psnr import PairedPSNR


def _masked_psnr_np(a: np.ndarray, b: np.ndarray, m: np.ndarray) -> float:
    """Reference: MSE over the masked pixels of all channels."""
    sel = np.broadcast_to(m[None] > 0.5, a.shape)
    if not sel.any():
        return math.nan
    return 10 * math.log10(1.0 / np.mean((a[sel] - b[sel]) ** 2))


def test_psnr_matches_skimage_and_masked_reference(make_step, pair_batch):
    batch = pair_batch(n=3, size=20, seed=1)
    g = torch.Generator().manual_seed(2)
    edited = (batch.target_image + 0.1 * torch.randn(3, 3, 20, 20, generator=g)).clamp(0, 1)
    mask = torch.zeros(3, 1, 20, 20)
    mask[0, :, 5:12, 3:9] = 1
    mask[1] = 1  # all in: out region empty
    batch.texture_mask = mask  # sample 2: empty mask
    out = PairedPSNR().update(make_step(batch, EditOutput(edited)))
    a, b = edited.double().numpy(), batch.target_image.double().numpy()
    for i in range(3):
        ref = peak_signal_noise_ratio(b[i], a[i], data_range=1.0)
        assert math.isclose(out["psnr"][i].item(), ref, rel_tol=1e-10)
        m = mask[i, 0].numpy()
        for key, region in (("psnr_in_mask", m), ("psnr_out_mask", 1 - m)):
            expected = _masked_psnr_np(a[i], b[i], region)
            got = out[key][i].item()
            assert (math.isnan(got) and math.isnan(expected)) or math.isclose(got, expected, rel_tol=1e-10)
    assert math.isnan(out["psnr_out_mask"][1]) and math.isnan(out["psnr_in_mask"][2])
    assert out["psnr_in_mask"][0] != out["psnr_out_mask"][0]


def test_psnr_without_mask_or_ground_truth(make_step, pair_batch):
    batch = pair_batch(n=2, size=16)
    edited = batch.target_image.clone()
    edited[1] = 0.5
    out = PairedPSNR().update(make_step(batch, EditOutput(edited)))
    assert out["psnr"][0] == PSNR_CAP_DB  # identical images: capped, not inf
    assert torch.isfinite(out["psnr"][1])
    assert torch.isnan(out["psnr_in_mask"]).all() and torch.isnan(out["psnr_out_mask"]).all()
    no_gt = pair_batch(n=2, size=16, ground_truth=False)
    assert PairedPSNR().update(make_step(no_gt, EditOutput(no_gt.source))) == {}


def test_psnr_rejects_mismatched_mask(make_step, pair_batch):
    batch = pair_batch(n=2, size=16)
    batch.texture_mask = torch.ones(2, 1, 8, 8)
    try:
        PairedPSNR().update(make_step(batch, EditOutput(batch.source)))
    except ValueError as err:
        assert "texture_mask" in str(err)
    else:
        raise AssertionError("a mask of the wrong size must be refused")
