import torch

from faceedit_bench.api.editor import EditOutput
from faceedit_bench.api.step import BackendSet
from faceedit_bench.metrics.metric_lpips import PairedLPIPS


def test_lpips_metric_compares_edit_with_target(make_step, pair_batch, fakes):
    batch = pair_batch(n=3, size=8)
    edited = batch.target_image.clone()
    edited[1] += 0.1
    step = make_step(batch, EditOutput(edited), BackendSet(lpips=fakes.distance()))
    out = PairedLPIPS(backend_label="mean-abs").update(step)
    assert list(out) == ["lpips_target"] and out["lpips_target"].dtype == torch.float64
    assert torch.allclose(out["lpips_target"], torch.tensor([0.0, 0.1, 0.0], dtype=torch.float64), atol=1e-6)
    no_gt = pair_batch(n=2, size=8, ground_truth=False)
    assert (
        PairedLPIPS().update(make_step(no_gt, EditOutput(no_gt.source), BackendSet(lpips=fakes.distance())))
        == {}
    )
