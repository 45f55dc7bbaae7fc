"""AU-rig landmarks move with the face: consistent with the true flow and with each AU's sense."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from faceedit_bench.api.aus import AU_NAMES, N_AUS
from faceedit_bench.aurig.dataset import AuRigDataset
from faceedit_bench.aurig.landmarks import LANDMARK_NAMES
from faceedit_bench.aurig.render import render, render_pair

torch.set_num_threads(1)

# landmarks that only the warp moves (lid and inner-lip points also follow texture layers)
_LAYERED = {"r_eye_upper", "r_eye_lower", "l_eye_upper", "l_eye_lower", "upper_lip_inner", "lower_lip_inner"}
_GEOMETRIC = [i for i, n in enumerate(LANDMARK_NAMES) if n not in _LAYERED]


def test_landmark_shapes_and_names() -> None:
    ds = AuRigDataset("test", 32, size=100)
    lm = ds.landmarks([0, 1, 2])
    assert lm.shape == (3, len(LANDMARK_NAMES), 2) and len(LANDMARK_NAMES) == 29
    assert float(lm.abs().max()) < 1


def test_flow_carries_target_landmarks_to_source_landmarks() -> None:
    ds = AuRigDataset("test", 64, size=300)
    pairs = ds.make_pairs(16, seed=9)
    ident = ds.identities(pairs.identity_index)
    pair = render_pair(ident, pairs.source_aus, pairs.target_aus, 64)
    grid = pair.target.landmarks[:, _GEOMETRIC].unsqueeze(1)  # (N, 1, L, 2)
    carried = F.grid_sample(pair.flow.permute(0, 3, 1, 2), grid, align_corners=False)[:, :, 0].permute(
        0, 2, 1
    )
    err_px = (carried - pair.source.landmarks[:, _GEOMETRIC]).norm(dim=-1) * 32
    assert float(err_px.max()) < 0.5
    moved_px = (pair.target.landmarks - pair.source.landmarks).norm(dim=-1).amax(1) * 32
    assert float(moved_px.max()) > 1.0  # the pairs do move landmarks


def test_landmarks_follow_each_aus_sense() -> None:
    ds = AuRigDataset("test", 64, size=100)
    ident = ds.identities([0, 0, 0, 0])
    aus = torch.zeros(4, N_AUS)
    aus[1, AU_NAMES.index("AU12")] = 5  # lip corners up and out
    aus[2, AU_NAMES.index("AU26")] = 5  # jaw drop
    aus[3, AU_NAMES.index("AU01")] = 5  # inner brows up
    lm = render(ident, aus, 64).landmarks
    d = lm[1:] - lm[:1]
    k = {n: i for i, n in enumerate(LANDMARK_NAMES)}
    # image y grows downwards; the right mouth corner is at negative x
    assert float(d[0, k["r_mouth_corner"], 1]) < -0.02 and float(d[0, k["l_mouth_corner"], 1]) < -0.02
    assert float(lm[1, k["l_mouth_corner"], 0] - lm[1, k["r_mouth_corner"], 0]) > float(
        lm[0, k["l_mouth_corner"], 0] - lm[0, k["r_mouth_corner"], 0]
    )
    assert float(d[1, k["chin"], 1]) > 0.03 and abs(float(d[1, k["nose_tip"], 1])) < 0.01
    assert float(d[2, k["r_brow_inner"], 1]) < -0.03 and abs(float(d[2, k["chin"], 1])) < 1e-3
