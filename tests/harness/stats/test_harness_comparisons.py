"""add_statistics on hand-made results: FID/KID intervals from features, floor, clipping, Wilson rates."""

import numpy as np
import torch

from faceedit_bench.api.backends import FeatureExtractor
from faceedit_bench.harness.stats.comparisons import add_statistics
from faceedit_bench.metrics.functional.fid import fid_from_features
from faceedit_bench.metrics.functional.kid import KIDConfig, kid

N, D = 40, 6


def _entry(key, metric, value, hib=False):
    return {"value": value, "ci95": None, "n": N, "backend": "feat", "higher_is_better": hib,
            "skipped": 0, "metric": metric, "key": key}  # fmt: skip


def _results():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(N, D))
    feats = {"identity": (real + rng.normal(0, 0.05, (N, D)), real), "ganimation": (real * 1.5 + 1.0, real),
             "two-stage": (real + rng.normal(0, 0.3, (N, D)), real)}  # fmt: skip
    editors, samples = {}, []
    groups = {"identity": "reference", "ganimation": "baseline", "two-stage": "two-stage"}
    for name, (edited, r) in feats.items():
        fid = fid_from_features(torch.from_numpy(edited), torch.from_numpy(r))
        kid_value = kid(edited, r, KIDConfig(subset_size=N // 2))[0]
        verify = np.ones(N) if name == "identity" else (rng.random(N) > 0.3).astype(float)
        editors[name] = {"group": groups[name], "status": "ok", "metrics": {
            "fid@feat": _entry("fid", "fid", fid), "kid@feat": _entry("kid", "kid", kid_value),
            "id_verify@feat": _entry("id_verify", "identity", float(verify.mean()), True)}}  # fmt: skip
        samples += [
            {
                "editor": name,
                "sample_id": f"s{i}",
                "identity_id": f"id{i % 8}",
                "values": {"id_verify@feat": v},
            }
            for i, v in enumerate(verify)
        ]
    editors["identity"]["metrics"]["fid@feat"]["value"] = -1e-12  # round-off below 0
    return {"editors": editors, "metrics_meta": {}}, samples, feats


def test_set_metric_intervals_floor_clipping_and_rates():
    data, samples, feats = _results()
    add_statistics(data, samples, features=feats)
    gan = data["editors"]["ganimation"]["metrics"]
    for key in ("fid@feat", "kid@feat"):
        lo, hi = gan[key]["ci95"]
        assert lo < gan[key]["value"] < hi and "features reused" in gan[key]["ci_method"]
    ident = data["editors"]["identity"]["metrics"]
    assert ident["fid@feat"]["value"] == 0.0 and ident["fid@feat"]["value_raw"] == -1e-12
    lo, hi = ident["id_verify@feat"]["ci95"]  # 40/40: Wilson, not "± 0"
    assert hi == 1.0 and 0.85 < lo < 0.95 and "Wilson" in ident["id_verify@feat"]["ci_method"]
    floor = data["sampling_floor"]
    assert floor["n_per_side"] == N // 2 and floor["fid@feat"] > 0
    rows = {(r["editor"], r["reference"], r["metric"]): r for r in data["comparisons"]["rows"]}
    worse = rows[("ganimation", "identity", "fid@feat")]
    assert worse["significant"] and worse["better"] == "identity"
    assert data["comparisons"]["n_resamples_fid_kid"] == 200
    assert (
        data["comparisons"]["resampled"].startswith("pairs (")
        and "from 8 identities, fewer than 10" in data["comparisons"]["resampled"]
    )


class _Pooled(FeatureExtractor):
    """Per-channel 4x4 average pools (48-d): a cheap stand-in for Inception."""

    label = "pooled"

    def features(self, images):
        return torch.nn.functional.adaptive_avg_pool2d(images, 4).flatten(1).double()


def test_compare_gives_fid_and_kid_intervals_end_to_end(tmp_path):
    """The harness hands each editor's features, in pair order, to the statistics."""
    import dataclasses
    import json

    from faceedit_bench import plugins
    from faceedit_bench.config import build_config
    from faceedit_bench.harness.inputs.config import CompareConfig
    from faceedit_bench.jobs.compare import run_compare
    from faceedit_bench.testing import TINY_PROTOCOL

    plugins.feature_extractors.register("tiny-pooled", _Pooled, help="tests only", replace=True)
    proto = dataclasses.replace(
        TINY_PROTOCOL, name="tiny-fid", metrics=("psnr", "fid", "kid"),
        backends={"fid_features": ("tiny-pooled",)}, n_pairs=16,
    )  # fmt: skip
    plugins.protocols.register("tiny-fid", proto, replace=True)
    cfg = build_config(
        CompareConfig, protocol="tiny-fid", out=tmp_path / "run", progress=False, figures=False
    )
    data = json.loads((run_compare(cfg) / "results.json").read_text())
    ident = data["editors"]["identity"]["metrics"]
    for key in ("fid@pooled", "kid@pooled"):
        lo, hi = ident[key]["ci95"]
        assert lo <= ident[key]["value"] <= hi and hi > lo
    assert data["sampling_floor"]["n_per_side"] == 8
    assert any(r["metric"] == "fid@pooled" for r in data["comparisons"]["rows"])
