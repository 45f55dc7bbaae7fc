"""Crop rule eyes-mouth-v1: geometry, rotation invariance, similarity fit, on-disk cache."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from faceedit_bench.data.crop import CropCache, crop_key, crop_quad, similarity_matrix
from faceedit_bench.data.embedded import PORTRAITS, pyfeat_file
from faceedit_bench.data.faces import FaceCropper

# right eye, left eye, nose, mouth right, mouth left of an upright face (x, y)
POINTS = np.array([[40.0, 50.0], [60.0, 50.0], [50.0, 62.0], [42.0, 72.0], [58.0, 72.0]])


def test_quad_is_an_upright_square_around_eyes_and_mouth() -> None:
    quad = crop_quad(POINTS)
    side = np.linalg.norm(quad[3] - quad[0])
    assert side == pytest.approx(2 * max(1.5 * 20, 1.35 * 22))  # 2 * half-side
    assert np.linalg.norm(quad[1] - quad[0]) == pytest.approx(side)
    assert quad[0, 1] == pytest.approx(quad[3, 1])  # top edge horizontal
    centre = quad.mean(0)
    assert centre == pytest.approx([50.0, 50.0 + 0.3 * 22])


def test_quad_rotates_with_the_face() -> None:
    theta = math.radians(30)
    rot = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    turned = crop_quad(POINTS @ rot.T)
    assert np.allclose(turned, crop_quad(POINTS) @ rot.T)


def test_align_crop_undoes_rotation_of_a_real_face() -> None:
    cropper = FaceCropper()
    from faceedit_bench.data.images import read_image

    image = read_image(pyfeat_file(PORTRAITS["happy"]))
    upright, pts = cropper.crop_tensor(image, 64)
    turned = torch.rot90(image, 1, dims=(1, 2))  # 90 degrees counter-clockwise
    again, _ = cropper.crop_tensor(turned, 64)
    assert upright.shape == (3, 64, 64)
    assert float((upright - again).abs().mean()) < 0.04  # same face crop, small landmark noise
    # eyes land on one row, left of centre and right of centre
    assert pts[0, 0] < pts[1, 0]


def test_similarity_matrix_recovers_a_known_transform() -> None:
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 100, (5, 2))
    true = np.array([[1.2 * 0.6, -1.2 * 0.8, 5.0], [1.2 * 0.8, 1.2 * 0.6, -3.0]])
    dst = src @ true[:, :2].T + true[:, 2]
    assert np.allclose(similarity_matrix(src, dst), true, atol=1e-8)


def test_bad_landmarks_are_rejected() -> None:
    with pytest.raises(ValueError, match="five finite"):
        crop_quad(np.full((5, 2), np.nan))
    with pytest.raises(ValueError, match="degenerate"):
        crop_quad(np.zeros((5, 2)))


def test_crop_cache_key_and_atomic_round_trip(tmp_path: Path) -> None:
    assert crop_key("abc", 64, "mp") != crop_key("abc", 128, "mp") != crop_key("abd", 64, "mp")
    cache = CropCache(tmp_path)
    key = crop_key("abc", 64, "mp")
    assert cache.load(key) is None
    cache.save(key, {"image": torch.zeros(2, 2, 3, dtype=torch.uint8), "points": torch.ones(5, 2)})
    assert torch.equal(cache.load(key)["points"], torch.ones(5, 2))
    assert not list(tmp_path.rglob(".*tmp"))
    cache.path(key).write_bytes(b"half-written")
    assert cache.load(key) is None  # a broken file is recomputed, not trusted


def test_crop_file_is_cached(tmp_path: Path) -> None:
    cropper = FaceCropper(CropCache(tmp_path))
    first = cropper.crop_file(pyfeat_file(PORTRAITS["anger"]), 48)
    assert first.image is not None and len(list(tmp_path.rglob("*.pt"))) == 1
    second = cropper.crop_file(pyfeat_file(PORTRAITS["anger"]), 48)
    assert torch.equal(first.image, second.image)
