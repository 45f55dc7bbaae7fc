import math

import numpy as np
import torch

from faceedit_bench.api.aus import AU_NAMES
from faceedit_bench.api.editor import EditOutput
from faceedit_bench.api.step import BackendSet
from faceedit_bench.metrics.metric_au_error import AUError


def _tagged(n: int, start: float) -> torch.Tensor:
    """Images whose first pixel identifies them to the table detector."""
    img = torch.rand(n, 3, 8, 8)
    img[:, 0, 0, 0] = torch.arange(n) * 0.01 + start
    return img


def test_au_error_against_numpy_with_nans_and_a_missed_face(make_step, pair_batch, fakes):
    n = 3
    g = torch.Generator().manual_seed(0)
    detected = torch.rand(n, 17, generator=g) * 5
    detected[:, [3, 9]] = float("nan")  # AUs this detector cannot see
    detected[2] = float("nan")  # no face in edit 2
    real = torch.rand(n, 17, generator=g) * 5
    real[0, 0] = float("nan")
    batch = pair_batch(n=n, size=8)
    batch.target_aus[1, 5] = float("nan")  # request leaves AU07 unspecified
    edited, batch.target_image = _tagged(n, 0.1), _tagged(n, 0.5)
    table = {round(0.1 + 0.01 * i, 4): detected[i] for i in range(n)}
    table.update({round(0.5 + 0.01 * i, 4): real[i] for i in range(n)})
    step = make_step(batch, EditOutput(edited), BackendSet(au_detector=fakes.au(table)))
    out = AUError(backend_label="table-au").update(step)

    d, t, r = detected.double().numpy(), batch.target_aus.double().numpy(), real.double().numpy()
    d[2] = np.where(t[2] <= 2.5, 5.0, 0.0)  # the missed face scores the worst detection per AU
    assert out["au_face_missed"].tolist() == [0.0, 0.0, 1.0]
    for i in range(n):
        diff = d[i] - t[i]
        ok = ~np.isnan(diff)
        assert math.isclose(out["au_mae"][i].item(), np.abs(diff[ok]).mean(), rel_tol=1e-12)
        assert math.isclose(out["au_mse"][i].item(), (diff[ok] ** 2).mean(), rel_tol=1e-12)
        vs = (d[i] if i < 2 else np.where(r[i] <= 2.5, 5.0, 0.0)) - r[i]
        assert math.isclose(out["au_mae_vs_real"][i].item(), np.nanmean(np.abs(vs)), rel_tol=1e-12)
    assert out["au_mae"][2] > 2.5  # at least half the scale per AU: worse than any found face can be
    assert torch.isnan(out["au_mae_AU05"][:2]).all()  # unseen AU of found faces stays unmeasured
    assert math.isclose(out["au_mae_AU01"][0].item(), abs(d[0, 0] - t[0, 0]), rel_tol=1e-12)
    assert math.isnan(out["au_mae_AU07"][1])
    assert set(out) <= set(AUError().keys()) and {f"au_mae_{a}" for a in AU_NAMES} <= set(out)


def test_au_error_without_ground_truth_has_no_vs_real(make_step, pair_batch, fakes):
    batch = pair_batch(n=2, size=8, ground_truth=False)
    edited = _tagged(2, 0.2)
    table = {0.2: batch.target_aus[0], 0.21: batch.target_aus[1] + 1.0}
    step = make_step(batch, EditOutput(edited), BackendSet(au_detector=fakes.au(table)))
    out = AUError().update(step)
    assert "au_mae_vs_real" not in out
    assert torch.allclose(out["au_mae"], torch.tensor([0.0, 1.0], dtype=torch.float64))
    assert AUError().primary_keys() == ["au_mae", "au_mse"]
