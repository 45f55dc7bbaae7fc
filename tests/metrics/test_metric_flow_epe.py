import torch
import torch.nn.functional as F

from faceedit_bench.api.editor import EditOutput
from faceedit_bench.metrics.functional.flow import grid_to_pixels
from faceedit_bench.metrics.metric_flow_epe import FlowEPE


def _identity_grid(n: int, h: int, w: int) -> torch.Tensor:
    theta = torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]).expand(n, 2, 3)
    return F.affine_grid(theta, [n, 3, h, w], align_corners=False)


def test_grid_to_pixels_is_grid_sample_convention():
    grid = _identity_grid(1, 5, 7)
    px = grid_to_pixels(grid)[0]
    assert torch.allclose(px[..., 0], torch.arange(7, dtype=torch.float64).expand(5, 7), atol=1e-6)
    assert torch.allclose(px[..., 1], torch.arange(5, dtype=torch.float64)[:, None].expand(5, 7), atol=1e-6)
    # a grid shifted by k pixels samples the image k pixels over
    img = torch.rand(1, 1, 5, 7)
    shifted = grid.clone()
    shifted[..., 0] += 2 * 2 / 7
    out = F.grid_sample(img, shifted, align_corners=False)
    assert torch.allclose(out[..., :5], img[..., 2:], atol=1e-5)


def test_flow_epe_in_pixels_with_masks(make_step, pair_batch):
    n, h, w = 2, 12, 16
    true = _identity_grid(n, h, w)
    pred = true.clone()
    pred[0, ..., 0] += 3 * 2 / w  # 3 px right
    pred[0, ..., 1] += 4 * 2 / h  # 4 px down: EPE 5 px everywhere
    pred[1, :6, :, 0] += 1 * 2 / w  # 1 px in the top half only
    mask = torch.zeros(n, 1, h, w)
    mask[:, :, :6] = 1
    batch = pair_batch(n=n, size=h)
    batch.flow, batch.texture_mask = true, mask
    out = FlowEPE().update(make_step(batch, EditOutput(batch.source, flow=pred)))
    assert torch.allclose(out["flow_epe"], torch.tensor([5.0, 0.5], dtype=torch.float64), atol=1e-5)
    assert torch.allclose(out["flow_epe_in_mask"], torch.tensor([5.0, 1.0], dtype=torch.float64), atol=1e-5)
    assert torch.allclose(out["flow_epe_out_mask"], torch.tensor([5.0, 0.0], dtype=torch.float64), atol=1e-5)


def test_flow_epe_nan_without_predicted_flow(make_step, pair_batch):
    batch = pair_batch(n=2, size=8)
    batch.flow = _identity_grid(2, 8, 8)
    out = FlowEPE().update(make_step(batch, EditOutput(batch.source)))
    assert set(out) == set(FlowEPE().keys())
    assert all(torch.isnan(v).all() for v in out.values())
    without_gt = pair_batch(n=2, size=8)
    assert FlowEPE().update(make_step(without_gt, EditOutput(without_gt.source, flow=batch.flow))) == {}
