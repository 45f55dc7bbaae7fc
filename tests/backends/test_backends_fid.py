"""Offline Inception conversion, parity with fid-helper's network and torch-fidelity's FID/KID."""

import math
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from threadpoolctl import threadpool_limits  # installed with scikit-learn (py-feat)
from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric

from faceedit_bench.api.batch import PairBatch
from faceedit_bench.api.editor import EditOutput
from faceedit_bench.api.step import BackendSet, BatchMemo, EvalStep
from faceedit_bench.backends import fid_inception as fi
from faceedit_bench.io import sha256_file
from faceedit_bench.metrics.metric_fid import FID
from faceedit_bench.metrics.metric_kid import KID

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")  # torch.jit.load deprecation


@pytest.fixture(scope="module")
def offline_env(tmp_path_factory):
    """Empty caches and no user weights: the offline conversion is what runs, built once here."""
    root = tmp_path_factory.mktemp("fid-env")
    # one BLAS thread: sqrtm/eigvals of 2048x2048 slow down ~3x when threads fight on a busy machine
    with pytest.MonkeyPatch.context() as mp, threadpool_limits(1):
        mp.setenv("FACEEDIT_BENCH_CACHE", str(root / "cache"))
        mp.setenv("TORCH_HOME", str(root / "torch"))
        mp.delenv(fi.WEIGHTS_ENV, raising=False)
        torch.set_num_threads(1)
        start = time.perf_counter()
        path = fi.converted_weights()
        print(f"offline Inception conversion: {time.perf_counter() - start:.2f} s")
        yield path


@pytest.fixture(scope="module")
def extractor(offline_env):
    return fi.InceptionV3Compat()


def test_conversion_maps_every_convolution(offline_env):
    sd = torch.load(offline_env, weights_only=True)
    template = fi._torch_fidelity_skeleton().state_dict()
    assert list(sd) == list(template)
    assert all(sd[k].shape == template[k].shape for k in sd)
    assert sum(k.endswith(".conv.weight") for k in sd) == fi.N_CONVOLUTIONS == 94
    assert all(torch.equal(v, torch.ones_like(v)) for k, v in sd.items() if k.endswith(".bn.weight"))
    assert torch.isnan(sd["fc.weight"]).all() and torch.isnan(sd["fc.bias"]).all()
    assert sha256_file(offline_env) == fi.CONVERTED_SHA256
    first = fi.convert_fid_helper_weights(fi.fid_helper_torchscript())
    assert torch.equal(
        first["Mixed_7c.branch_pool.bn.running_var"], sd["Mixed_7c.branch_pool.bn.running_var"]
    )


def test_corrupt_file_is_rebuilt_and_wrong_hash_fails(offline_env):
    offline_env.write_bytes(b"not weights")
    with pytest.warns(RuntimeWarning, match=r"rebuilding") as caught:
        assert fi.converted_weights() == offline_env
    assert str(offline_env) in str(caught[0].message)  # the warning names the file it rebuilds
    assert sha256_file(offline_env) == fi.CONVERTED_SHA256
    with pytest.raises(RuntimeError, match="sha256"), pytest.warns(RuntimeWarning, match="rebuilding"):
        fi.converted_weights(expected_sha256="0" * 64)


def test_features_equal_fid_helper_network(extractor):
    g = torch.Generator().manual_seed(0)
    images = torch.nn.functional.interpolate(torch.rand(3, 3, 12, 12, generator=g), size=299, mode="bilinear")
    u8 = fi.to_uint8(images)
    ours = extractor.features(images)
    network = torch.jit.load(str(fi.fid_helper_torchscript()), map_location="cpu").eval()
    with torch.no_grad():
        theirs = network((u8.float() - 128) / 128).double()  # fid-helper's TF input range
    assert ours.shape == (3, 2048) and ours.dtype == torch.float64
    rel = ((ours - theirs).norm() / theirs.norm()).item()
    print(f"Inception conversion parity vs fid-helper: {rel:.2e} relative")
    # the unfolded network matches to ~1.3e-7; folding batch norm and channels-last
    # convolutions round differently in float32 (~1e-6): a wrong mapping is off by O(1)
    assert rel < 5e-6


def test_folding_keeps_the_function_and_removes_every_batch_norm(offline_env, extractor):
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    plain = FeatureExtractorInceptionV3("plain", ["2048"], feature_extractor_weights_path=str(offline_env))
    plain.eval()
    assert extractor.folded == fi.N_CONVOLUTIONS
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in extractor.net.modules())
    u8 = fi.to_uint8(torch.rand(2, 3, 48, 48, generator=torch.Generator().manual_seed(3)))
    with torch.no_grad():
        expected = plain(u8)[0].double()
    got = extractor.features(u8)
    assert ((got - expected).norm() / expected.norm()).item() < 5e-6
    assert extractor.provenance()["inference"] == "94 conv+bn folded, channels_last"


def test_offline_weights_refuse_logits_and_say_where_they_come_from(extractor):
    with pytest.raises(fi.LogitsUnavailableError, match="no logits"):
        extractor.logits(torch.rand(1, 3, 32, 32))
    prov = extractor.provenance()
    assert prov["weights_source"] == "offline-conversion" and prov["has_logits"] is False
    assert prov["weights_sha256"] == fi.CONVERTED_SHA256
    assert fi.InceptionV3Compat.availability().usable


def test_user_weights_with_logits_give_torch_fidelity_logits(offline_env, tmp_path, monkeypatch):
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    sd = torch.load(offline_env, weights_only=True)
    g = torch.Generator().manual_seed(0)
    sd["fc.weight"] = torch.randn(sd["fc.weight"].shape, generator=g) * 0.01
    sd["fc.bias"] = torch.randn(sd["fc.bias"].shape, generator=g)
    user = tmp_path / "with-logits.pth"
    torch.save(sd, user)
    monkeypatch.setenv(fi.WEIGHTS_ENV, str(user))
    ext = fi.InceptionV3Compat()
    assert ext.provenance()["weights_source"] == "user" and ext.has_logits
    images = torch.rand(2, 3, 40, 40, generator=g)
    reference = FeatureExtractorInceptionV3("ref", ["logits"], feature_extractor_weights_path=str(user))
    with torch.no_grad():
        expected = reference(fi.to_uint8(images))[0].double()
    assert torch.allclose(ext.logits(images), expected, rtol=1e-5, atol=1e-5)


def test_weight_selection_order(offline_env, tmp_path, monkeypatch):
    assert fi.choose_weights(build=False).source == "offline-conversion"
    cache = tmp_path / "hub" / "checkpoints" / fi.TORCH_FIDELITY_WEIGHTS
    cache.parent.mkdir(parents=True)
    cache.symlink_to(offline_env)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert fi.choose_weights(build=False) == fi.WeightsChoice(cache, "torch-fidelity-cache")
    monkeypatch.setenv(fi.WEIGHTS_ENV, str(offline_env))
    assert fi.choose_weights(build=False) == fi.WeightsChoice(offline_env, "user")
    monkeypatch.setenv(fi.WEIGHTS_ENV, str(tmp_path / "missing.pth"))
    availability = fi.InceptionV3Compat.availability()
    assert not availability.usable and "missing.pth" in availability.reason


def _write_folder(folder: Path, n: int, seed: int, shift: float) -> torch.Tensor:
    """Smooth random 64-px RGB images saved as PNG; returns them as float [0, 1] as read back."""
    folder.mkdir()
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(n, 3, 5, 5, generator=g) * (1 - shift) + shift
    images = torch.nn.functional.interpolate(low, size=64, mode="bicubic").clamp(0, 1)
    u8 = fi.to_uint8(images)
    for i in range(n):
        Image.fromarray(u8[i].permute(1, 2, 0).numpy()).save(folder / f"{i:03d}.png")
    return (
        torch.stack(
            [
                torch.from_numpy(np.array(Image.open(folder / f"{i:03d}.png"))).permute(2, 0, 1)
                for i in range(n)
            ]
        ).float()
        / 255
    )


def test_fid_and_kid_match_torch_fidelity_on_png_folders(extractor, offline_env, tmp_path):
    import torch_fidelity

    n = 16
    edited = _write_folder(tmp_path / "edited", n, seed=1, shift=0.0)
    real = _write_folder(tmp_path / "real", n, seed=2, shift=0.3)
    ref = torch_fidelity.calculate_metrics(
        input1=str(tmp_path / "edited"),
        input2=str(tmp_path / "real"),
        fid=True,
        kid=True,
        kid_subset_size=n // 2,  # ours: half the sample count below 2,000 pairs (metric_kid.py)
        feature_extractor_weights_path=str(offline_env),
        cuda=False,
        cache=False,
        save_cpu_ram=True,
        verbose=False,
    )
    fid, kid = FID(extractor.label), KID(extractor.label)
    backends = BackendSet(fid_features=extractor)
    for start in (0, 10):  # two uneven batches
        sl = slice(start, min(n, start + 10))
        batch = PairBatch(
            source=real[sl], target_aus=torch.zeros(len(real[sl]), 17), sample_ids=[], target_image=real[sl]
        )
        step = EvalStep(batch, EditOutput(edited[sl]), "folder", backends, BatchMemo())
        fid.update(step)
        kid.update(step)
    ours_fid, ours_kid = fid.compute()["fid"], kid.compute()
    ref_fid = ref["frechet_inception_distance"]
    ref_kid = ref["kernel_inception_distance_mean"]
    print(f"FID ours {ours_fid:.6f} torch-fidelity {ref_fid:.6f} rel {abs(ours_fid / ref_fid - 1):.2e}")
    print(f"KID ours {ours_kid['kid']:.8f} torch-fidelity {ref_kid:.8f}")
    assert ref_fid > 1.0 and math.isclose(ours_fid, ref_fid, rel_tol=1e-4)
    # and the direct numpy computation (torch-fidelity's statistics code) on our own features
    feats = kid.state()
    direct = fid_statistics_to_metric(
        fid_features_to_statistics(feats["edited_features"]),
        fid_features_to_statistics(feats["real_features"]),
        verbose=False,
    )["frechet_inception_distance"]
    assert math.isclose(ours_fid, direct, rel_tol=1e-6)
    # subsets of size n are permutations of the whole set; torch-fidelity's kernels run in
    # float32 (ours in float64), which moves this small difference of large sums by ~1e-5
    assert math.isclose(ours_kid["kid"], ref_kid, rel_tol=1e-4)
