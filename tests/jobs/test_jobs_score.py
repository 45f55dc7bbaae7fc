"""`score DIR_A DIR_B`: folder metrics equal the harness's functional metrics on the same images."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from faceedit_bench.cli.main import main
from faceedit_bench.harness.inputs.manifest import load_fitted
from faceedit_bench.jobs.score import score_folders
from faceedit_bench.metrics.functional.fid import fid_from_features


def _folder(path, seed, n=6, size=16):
    path.mkdir()
    rng = np.random.default_rng(seed)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(path / f"img{i}.png")
    return path


def test_psnr_ssim_and_fid_match_reference_computations(tmp_path):
    a, b = _folder(tmp_path / "a", 0), _folder(tmp_path / "b", 1)
    res = score_folders(a, b, ["psnr", "ssim", "fid"])
    xa = torch.stack([load_fitted(a / f"img{i}.png", 16) for i in range(6)]).double()
    xb = torch.stack([load_fitted(b / f"img{i}.png", 16) for i in range(6)]).double()
    mse = ((xa - xb) ** 2).mean(dim=(1, 2, 3))
    assert res.values["psnr@exact"]["value"] == pytest.approx(
        float((10 * torch.log10(1 / mse)).mean()), rel=1e-5
    )
    assert res.values["psnr@exact"]["n"] == 6 and res.resolution == 16
    from faceedit_bench.backends.fid_inception import InceptionV3Compat

    net = InceptionV3Compat()
    ref = fid_from_features(
        net.features(xa.float()).double(), net.features(xb.float()).double(), method="eigh"
    )
    label = net.label
    assert res.values[f"fid@{label}"]["value"] == pytest.approx(ref, rel=1e-4)
    same = score_folders(a, a, ["ssim"])
    assert same.values["ssim@exact"]["value"] == pytest.approx(1.0, abs=1e-6)


def test_cli_writes_json_and_refuses_unpaired_names(tmp_path, capsys):
    a, b = _folder(tmp_path / "a", 0, n=3), _folder(tmp_path / "b", 1, n=3)
    out = tmp_path / "s.json"
    assert main(["score", str(a), str(b), "--metrics", "psnr", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert set(data["metrics"]) == {"psnr@exact"} and data["n_images"] == [3, 3]
    (b / "img2.png").rename(b / "other.png")
    assert main(["score", str(a), str(b), "--metrics", "psnr"]) == 2
    assert "2 names are in only one of" in capsys.readouterr().err
    assert main(["score", str(a), str(b), "--metrics", "fid,bogus"]) == 2


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--batch-size", "0", "--batch-size=0: must be between 1 and"),
        ("--resolution", "60000", "--resolution=60000: must be between 8 and 4,096"),
        ("--resolution", "4", "--resolution=4: must be between 8 and 4,096"),
    ],
)
def test_score_refuses_unreasonable_sizes_before_allocating(tmp_path, capsys, option, value, message):
    a = _folder(tmp_path / "a", 0, n=2)
    assert main(["score", str(a), str(a), "--metrics", "psnr", option, value]) == 2
    err = capsys.readouterr().err
    assert f"faceedit-bench score: error: {message}" in err and "Traceback" not in err


def test_score_batch_memory_is_checked(tmp_path, capsys):
    a = _folder(tmp_path / "a", 0, n=2)
    assert (
        main(["score", str(a), str(a), "--metrics", "psnr", "--resolution", "4096", "--batch-size", "64"])
        == 2
    )
    assert (
        "a batch of 64 images of 4096x4096 px needs 12.0 GiB; lower --batch-size" in capsys.readouterr().err
    )


def test_score_downscale_huge_flag_reaches_the_reader(tmp_path, monkeypatch):
    from faceedit_bench.data.images import DOWNSCALE_ENV

    monkeypatch.delenv(DOWNSCALE_ENV, raising=False)
    a = _folder(tmp_path / "a", 0, n=2)
    monkeypatch.setattr("os.environ", dict(__import__("os").environ))  # the flag's setting ends with the test
    assert main(["score", str(a), str(a), "--metrics", "psnr", "--downscale-huge"]) == 0
    assert __import__("os").environ[DOWNSCALE_ENV] == "1"
