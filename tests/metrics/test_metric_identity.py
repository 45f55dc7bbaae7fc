import numpy as np
import torch

from faceedit_bench.api.editor import EditOutput
from faceedit_bench.api.step import BackendSet
from faceedit_bench.metrics.metric_identity import IdentitySimilarity


def test_identity_cosine_verify_and_missing_faces(make_step, pair_batch, fakes):
    g = torch.Generator().manual_seed(0)
    src = torch.nn.functional.normalize(torch.randn(4, 8, generator=g), dim=1)
    edt = src.clone()
    edt[1] = torch.nn.functional.normalize(src[1] + 2.0 * torch.randn(8, generator=g), dim=0)
    edt[2] = -src[2]
    edt[3] = float("nan")  # no face found in the edit
    batch = pair_batch(n=4, size=8, ground_truth=False)
    batch.source[:, 0, 0, 0] = torch.tensor([0.1, 0.11, 0.12, 0.13])
    edited = batch.source.clone()
    edited[:, 0, 0, 0] += 0.5
    table = {round(0.1 + 0.01 * i, 4): src[i] for i in range(4)}
    table.update({round(0.6 + 0.01 * i, 4): edt[i] for i in range(4)})
    step = make_step(batch, EditOutput(edited), BackendSet(identity=fakes.identity(table)))
    out = IdentitySimilarity(backend_label="table-id").update(step)
    s, e = src.double().numpy(), edt.double().numpy()
    ref = [float(s[i] @ e[i] / np.linalg.norm(s[i]) / np.linalg.norm(e[i])) for i in range(3)]
    assert np.allclose(out["id_cos"][:3].numpy(), ref, rtol=1e-6)
    assert out["id_cos"][0].item() > 0.999999 and out["id_cos"][2].item() < -0.999999
    expected_verify = [1.0 if c >= fakes.identity.threshold else 0.0 for c in ref]
    assert out["id_verify"][:3].tolist() == expected_verify
    # a face missed in the edit is a failure scored as the worst of each scale, and counted
    assert out["id_cos"][3].item() == -1.0 and out["id_verify"][3].item() == 0.0
    assert out["id_face_missed"].tolist() == [0.0, 0.0, 0.0, 1.0]
