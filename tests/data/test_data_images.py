"""Image reading: every pixel mode to RGB [0, 1], and the huge-image rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from faceedit_bench.data import images as images_mod
from faceedit_bench.data.embedded import pyfeat_file
from faceedit_bench.data.images import ImageReadError, from_uint8_hwc, read_image, to_uint8_hwc


def _check(t: torch.Tensor, h: int, w: int) -> None:
    assert t.dtype == torch.float32 and t.shape == (3, h, w)
    assert float(t.min()) >= 0.0 and float(t.max()) <= 1.0


def test_grayscale_is_replicated_to_three_channels(tmp_path: Path) -> None:
    path = tmp_path / "g.png"
    Image.fromarray(np.full((4, 5), 128, dtype=np.uint8), mode="L").save(path)
    t = read_image(path)
    _check(t, 4, 5)
    assert torch.allclose(t, torch.full_like(t, 128 / 255))


def test_sixteen_bit_is_scaled_by_its_depth(tmp_path: Path) -> None:
    path = tmp_path / "d.png"
    Image.fromarray(np.full((3, 3), 65535 // 2, dtype=np.uint16)).save(path)
    t = read_image(path)
    _check(t, 3, 3)
    assert float(t[0, 0, 0]) == pytest.approx(0.5, abs=1e-3)


def test_rgba_is_composited_on_white_and_palette_expanded(tmp_path: Path) -> None:
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[0, 0] = [255, 0, 0, 255]  # opaque red; the rest fully transparent
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "a.png")
    t = read_image(tmp_path / "a.png")
    assert t[:, 0, 0].tolist() == [1.0, 0.0, 0.0] and t[:, 1, 1].tolist() == [1.0, 1.0, 1.0]
    Image.fromarray(rgba[..., :3]).convert("P").save(tmp_path / "p.png")
    p = read_image(tmp_path / "p.png")
    _check(p, 2, 2)
    assert p[:, 0, 0].tolist() == [1.0, 0.0, 0.0]


def test_shipped_grayscale_and_alpha_photos_read(tmp_path: Path) -> None:
    assert read_image(pyfeat_file("Image_with_alpha.png")).shape == (3, 1036, 1524)
    assert read_image(pyfeat_file("BWPictureHuman.jpg")).shape == (3, 1912, 2560)


def test_huge_images_are_refused_or_downscaled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images_mod, "MAX_PIXELS", 1000)  # same rule, small numbers
    path = tmp_path / "big.png"
    Image.fromarray(np.zeros((50, 80, 3), dtype=np.uint8)).save(path)
    with pytest.raises(ImageReadError, match=r"big\.png: 80x50 .* exceeds"):
        read_image(path)
    small = read_image(path, downscale_huge=True)
    assert small.shape[1] * small.shape[2] <= 1000 and small.shape[2] > small.shape[1]


def test_uint8_round_trip() -> None:
    t = torch.rand(3, 5, 7)
    back = from_uint8_hwc(to_uint8_hwc(t))
    assert (back - t).abs().max() <= 0.5 / 255 + 1e-6


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    arr = np.zeros((4, 6, 3), dtype=np.uint8)
    arr[0, 0] = 255  # white top-left pixel of the stored (landscape) raster
    im = Image.fromarray(arr)
    exif = im.getexif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    path = tmp_path / "phone.jpg"
    im.save(path, exif=exif, quality=100)
    t = read_image(path)
    assert t.shape == (3, 6, 4)  # displayed upright: portrait
    assert float(t[:, 0, -1].mean()) > 0.5  # the white corner moved to the top-right
