"""The 29 AU-rig landmarks, defined on the canonical face (they move with the warp).

Eyelid points follow the lid layer (AU05/07/45); the inner-lip points follow the
mouth opening (AU25/26). Order is fixed by ``LANDMARK_NAMES``.
"""

from __future__ import annotations

import torch

from faceedit_bench.aurig.face import MOUTH_GAP, LayerState
from faceedit_bench.aurig.identity import Identity

LANDMARK_NAMES: tuple[str, ...] = (
    *(f"{side}_brow_{p}" for side in ("r", "l") for p in ("inner", "mid", "outer")),
    *(f"{side}_eye_{p}" for side in ("r", "l") for p in ("inner", "outer", "upper", "lower")),
    "nose_bridge", "nose_tip", "r_nose_wing", "l_nose_wing",
    "r_mouth_corner", "l_mouth_corner", "upper_lip_top", "upper_lip_inner", "lower_lip_inner", "lower_lip_bottom",
    "chin", "r_jaw", "l_jaw", "r_cheek", "l_cheek",
)  # fmt: skip


def canonical_landmarks(ident: Identity, st: LayerState) -> torch.Tensor:
    """(N, 29, 2) canonical face coordinates of the landmarks."""
    ex, ey, ew, eh = ident.eye_x, ident.eye_y, ident.eye_w, ident.eye_h
    by = ey - ident.brow_gap
    top, bot = -eh, 0.7 * eh
    lo = st.lid_lo
    up = torch.minimum(st.lid_up, 1 - lo)
    lid_top = ey + top + up * (bot - top)
    lid_bot = ey + bot - lo * (bot - top)
    pts: list[tuple[torch.Tensor, torch.Tensor]] = []
    for s in (-1.0, 1.0):  # image right side of the face first (viewer's left)
        bx = ex - 0.005
        pts += [
            (s * (bx - 0.9 * ident.brow_w), by + 0.009),
            (s * bx, by - ident.brow_arch),
            (s * (bx + ident.brow_w), by - 0.01),
        ]
    for s in (-1.0, 1.0):
        pts += [
            (s * (ex - ew), ey),
            (s * (ex + ew), ey - ident.eye_tilt * ew),
            (s * ex, lid_top),
            (s * ex, lid_bot),
        ]
    ny, nw, my, mw = ident.nose_y, ident.nose_w, ident.mouth_y, ident.mouth_w
    h = MOUTH_GAP * st.mouth_open
    pts += [(0 * ex, ey), (0 * ex, ny - 0.01), (-nw * 0.9, ny), (nw * 0.9, ny)]
    pts += [
        (-mw, my + 0.006),
        (mw, my + 0.006),
        (0 * mw, my - 0.65 * ident.lip_up),
        (0 * mw, my - h),
        (0 * mw, my + h),
        (0 * mw, my + ident.lip_lo),
    ]
    rx, ry, jaw = ident.face_rx, ident.face_ry, ident.jaw
    jy = 0.7 * ry
    jx = rx * (1 - jaw * 0.49) * (1 - 0.49) ** 0.5
    pts += [(0 * rx, ry), (-jx, jy), (jx, jy), (-rx, ey + 0.05), (rx, ey + 0.05)]
    xs = torch.stack([x for x, _ in pts], 1)
    ys = torch.stack([y for _, y in pts], 1)
    return torch.stack([xs, ys], -1)
