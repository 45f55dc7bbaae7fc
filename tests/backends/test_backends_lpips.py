"""LPIPS backends: offline loading, exact weights, zero for identical images, growth with distortion."""

import socket

import pytest
import torch
import torchvision

from faceedit_bench.backends import lpips_alex
from faceedit_bench.backends.lpips_alex import LpipsAlex
from faceedit_bench.backends.lpips_shift_tolerant import ShiftTolerantLpipsAlex
from faceedit_bench.io import sha256_file


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any attempt to download weights fails the test."""
    torch.set_num_threads(1)

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args[:1]}")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse)
    monkeypatch.setattr(torch.hub, "download_url_to_file", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


def _images(n: int = 2, size: int = 48, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(n, 3, 6, 6, generator=g)
    return torch.nn.functional.interpolate(low, size=size, mode="bilinear").clamp(0, 1)


def _distortions(x: torch.Tensor) -> list[torch.Tensor]:
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(1))
    return [(x + s * noise).clamp(0, 1) for s in (0.02, 0.08, 0.25)]


def _assert_metric_behaviour(model) -> None:
    x = _images()
    assert torch.equal(model.distance(x, x.clone()), torch.zeros(2, dtype=torch.float64))
    d = torch.stack([model.distance(x, y) for y in _distortions(x)])
    assert d.shape == (3, 2) and (d > 0).all()
    assert (d[1:] > d[:-1]).all(), d  # grows with the distortion, per image
    with pytest.raises(ValueError, match="minimum"):
        model.distance(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16))


@pytest.fixture
def fake_alexnet(tmp_path, monkeypatch):
    """A random torchvision AlexNet trunk saved where torch hub caches the real one."""
    torch.manual_seed(0)
    trunk = {f"features.{k}": v for k, v in torchvision.models.alexnet().features.state_dict().items()}
    path = tmp_path / "hub" / "checkpoints" / lpips_alex.ALEXNET_WEIGHTS
    path.parent.mkdir(parents=True)
    torch.save(trunk, path)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(lpips_alex, "ALEXNET_SHA256_PREFIX", sha256_file(path)[:8])
    return path, trunk


def test_lpips_alex_unavailable_without_cached_trunk(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    availability = LpipsAlex.availability()
    assert not availability.usable and lpips_alex.ALEXNET_WEIGHTS in availability.reason
    assert str(tmp_path / "hub" / "checkpoints") in availability.reason
    with pytest.raises(FileNotFoundError, match=lpips_alex.ALEXNET_WEIGHTS):
        LpipsAlex()


def test_lpips_alex_loads_cached_trunk_exactly(fake_alexnet):
    path, trunk = fake_alexnet
    model = LpipsAlex()
    assert LpipsAlex.availability().usable
    # the sliced trunk computes exactly torchvision's ReLU outputs
    reference = torchvision.models.alexnet().features
    reference.load_state_dict({k.removeprefix("features."): v for k, v in trunk.items()})
    x = torch.rand(1, 3, 64, 64)
    taps, h = [], x
    for i, layer in enumerate(reference):
        h = layer(h)
        if i in (1, 4, 7, 9, 11):
            taps.append(h.clone())
    with torch.no_grad():
        ours = model.model.net(x)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(ours, taps, strict=True))
    lins = torch.load(lpips_alex._lpips_linear_weights(), map_location="cpu", weights_only=True)
    assert torch.equal(model.model.lin3.model[1].weight, lins["lin3.model.1.weight"])
    assert model.provenance()["trunk_sha256"] == sha256_file(path)
    _assert_metric_behaviour(model)


def test_lpips_alex_refuses_a_file_with_the_wrong_hash(fake_alexnet, monkeypatch):
    monkeypatch.setattr(lpips_alex, "ALEXNET_SHA256_PREFIX", "00000000")
    with pytest.raises(ValueError, match="not torchvision's AlexNet"):
        LpipsAlex()


def test_shift_tolerant_lpips_matches_package_and_behaves():
    from stlpips_pytorch.stlpips import LPIPS

    model = ShiftTolerantLpipsAlex()
    assert ShiftTolerantLpipsAlex.availability().usable
    reference = LPIPS(net="alex", variant="shift_tolerant", pretrained=True, verbose=False).eval()
    a, b = _images(seed=2), _images(seed=3)
    with torch.no_grad():
        expected = reference(a * 2 - 1, b * 2 - 1).reshape(-1).double()
    assert torch.allclose(model.distance(a, b), expected, rtol=1e-6)
    _assert_metric_behaviour(model)
    # tolerant to a one-pixel shift: far less than to noise of a similar pixel change
    shifted = torch.roll(a, shifts=1, dims=-1)
    assert model.distance(a, shifted).max() < model.distance(a, _distortions(a)[2]).min()
