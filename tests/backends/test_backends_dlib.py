"""dlib ResNet identity on real faces: same person closer than different people."""

from __future__ import annotations

import pytest
import torch

from faceedit_bench.backends.identity_dlib import DlibIdentity
from faceedit_bench.data.embedded import pyfeat_file
from faceedit_bench.data.frames import read_frames

pytestmark = pytest.mark.skipif(not DlibIdentity.availability().usable, reason="dlib models missing")


@pytest.fixture(scope="module")
def model() -> DlibIdentity:
    return DlibIdentity()


def test_same_person_frames_are_closer_than_other_person(model: DlibIdentity) -> None:
    wolf = read_frames(pyfeat_file("WolfgangLanger_Pexels.mp4"), [0, 300])
    single = read_frames(pyfeat_file("single_face.mp4"), [10])
    emb = model.embed(torch.cat([wolf, single]))
    assert emb.shape == (3, 128)
    assert torch.allclose(emb.norm(dim=1), torch.ones(3), atol=1e-5)
    same, other = float(emb[0] @ emb[1]), float(emb[0] @ emb[2])
    assert same > model.threshold > other, (same, other)


def test_small_inputs_are_upscaled_and_match_full_size(model: DlibIdentity) -> None:
    frame = read_frames(pyfeat_file("single_face.mp4"), [30])
    small = torch.nn.functional.interpolate(frame, size=(90, 160), mode="area")
    a, b = model.embed(frame), model.embed(small)
    assert float((a * b).sum()) > 0.95


def test_no_face_gives_nan_row(model: DlibIdentity) -> None:
    out = model.embed(torch.zeros(1, 3, 64, 64))
    assert out.shape == (1, 128) and torch.isnan(out).all()


def test_threshold_matches_dlib_euclidean_rule(model: DlibIdentity) -> None:
    assert DlibIdentity.threshold == pytest.approx(1 - 0.36 / (2 * 1.42**2))
    prov = model.provenance()
    assert prov["threshold"] == DlibIdentity.threshold and "below 0.6" in str(prov["threshold_rule"])
    assert "= 0.911" in str(prov["threshold_rule"])
