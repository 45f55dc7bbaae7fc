"""Batched AU-rig rendering: single images, and pairs with the true flow and texture mask.

Pipeline for one image (see DESIGN.md, "AU-rig"): image point ``X`` -> face point
``q = pose^-1(X)`` -> canonical point ``c = q - D_a(q)`` -> base face and AU texture
layers drawn at ``c``. For a pair (a = source, b = target) the backward flow of a
target pixel is ``pose(W_a^-1(W_b(pose^-1(X))))``; the texture mask marks pixels
where the layers drawn with a's and b's AUs differ at the same canonical point,
where the inversion failed, where the map changes area by more than
``AREA_LIMIT`` (far from one-to-one at pixel scale) or points outside the image;
it is dilated by one pixel because bilinear sampling reads the 2x2 neighbours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F

from faceedit_bench.aurig import deform
from faceedit_bench.aurig.face import draw_base, draw_layers, layer_state
from faceedit_bench.aurig.identity import Identity

MIN_RES, MAX_RES = 32, 256
COLOUR_TOL = 2.0 / 255  # layer difference that counts as a texture event
AREA_LIMIT = 3.0
RESIDUAL_TOL_PX = 0.25


@dataclass
class Rendered:
    images: torch.Tensor  # (N, 3, H, W) in [0, 1]
    landmarks: torch.Tensor  # (N, L, 2) image coords in [-1, 1] (grid_sample convention)


@dataclass
class RenderedPair:
    source: Rendered
    target: Rendered
    flow: torch.Tensor  # (N, H, W, 2) target pixel -> source location, [-1, 1]
    texture_mask: torch.Tensor  # (N, 1, H, W) in {0, 1}


def check_resolution(res: int) -> None:
    if not (isinstance(res, int) and MIN_RES <= res <= MAX_RES):
        raise ValueError(f"AU-rig resolution must be an int in [{MIN_RES}, {MAX_RES}], got {res!r}")


@lru_cache(maxsize=8)
def pixel_grid(res: int) -> torch.Tensor:
    """(1, H, W, 2) pixel centres in [-1, 1], align_corners=False convention."""
    t = (torch.arange(res, dtype=torch.float32) * 2 + 1) / res - 1
    yy, xx = torch.meshgrid(t, t, indexing="ij")
    return torch.stack([xx, yy], -1).unsqueeze(0)


def _pose(ident: Identity) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    cos, sin = torch.cos(ident.roll).view(-1, 1, 1), torch.sin(ident.roll).view(-1, 1, 1)
    return cos, sin, ident.scale.view(-1, 1, 1), ident.squash.view(-1, 1, 1)


def to_face(ident: Identity, pts: torch.Tensor) -> torch.Tensor:
    """Image coords (N or 1, H, W, 2) -> face coords (N, H, W, 2)."""
    cos, sin, s, sq = _pose(ident)
    px = (pts[..., 0] - ident.shift[:, 0].view(-1, 1, 1)) / s
    py = (pts[..., 1] - ident.shift[:, 1].view(-1, 1, 1)) / s
    return torch.stack([(cos * px + sin * py) / sq, -sin * px + cos * py], -1)


def to_image(ident: Identity, q: torch.Tensor) -> torch.Tensor:
    """Face coords (N, H, W, 2) -> image coords."""
    cos, sin, s, sq = _pose(ident)
    qx = q[..., 0] * sq
    x = s * (cos * qx - sin * q[..., 1]) + ident.shift[:, 0].view(-1, 1, 1)
    y = s * (sin * qx + cos * q[..., 1]) + ident.shift[:, 1].view(-1, 1, 1)
    return torch.stack([x, y], -1)


def _aa(ident: Identity, res: int) -> float:
    """Anti-aliasing ramp width in face units: about one pixel of the smallest face."""
    return 2.0 / (res * float(ident.scale.min()))


def _landmarks(ident: Identity, grid: torch.Tensor, aus: torch.Tensor) -> torch.Tensor:
    from faceedit_bench.aurig.landmarks import canonical_landmarks

    c = canonical_landmarks(ident, layer_state(aus)).unsqueeze(1)  # (N, 1, L, 2)
    q, _, _ = deform.invert_warp(grid, c)
    return to_image(ident, q)[:, 0]


def render(ident: Identity, aus: torch.Tensor, res: int) -> Rendered:
    """Render identities ``ident`` with AU intensities ``aus`` (N, 17) at ``res`` px."""
    check_resolution(res)
    aus = aus.float()
    grid = deform.field_grid(ident, aus)
    q = to_face(ident, pixel_grid(res))
    c = deform.warp_to_canonical(grid, q)
    aa = _aa(ident, res)
    base, aux = draw_base(ident, c, aa)
    img = draw_layers(base, aux, ident, c, aa, layer_state(aus)).clamp_(0, 1)
    return Rendered(img, _landmarks(ident, grid, aus))


def render_pair(ident: Identity, aus_a: torch.Tensor, aus_b: torch.Tensor, res: int) -> RenderedPair:
    """Source (AUs a) and target (AUs b) of the same identities, with flow and texture mask."""
    check_resolution(res)
    aus_a, aus_b = aus_a.float(), aus_b.float()
    src = render(ident, aus_a, res)
    grid_a = deform.field_grid(ident, aus_a)
    grid_b = deform.field_grid(ident, aus_b)
    q_t = to_face(ident, pixel_grid(res))
    c_t = deform.warp_to_canonical(grid_b, q_t)
    aa = _aa(ident, res)
    base, aux = draw_base(ident, c_t, aa)
    tgt_img = draw_layers(base, aux, ident, c_t, aa, layer_state(aus_b)).clamp_(0, 1)
    as_a = draw_layers(base, aux, ident, c_t, aa, layer_state(aus_a)).clamp_(0, 1)

    q_s, residual, det_a = deform.invert_warp(grid_a, c_t)
    flow = to_image(ident, q_s)
    area = deform.jacobian_det(grid_b, q_t) / det_a
    bad = (tgt_img - as_a).abs().amax(1) > COLOUR_TOL
    bad |= residual * (res * float(ident.scale.max()) / 2) > RESIDUAL_TOL_PX
    bad |= (area.log().abs() > math.log(AREA_LIMIT)) | ~torch.isfinite(area)
    bad |= (flow.abs() > 1).any(-1)
    mask = F.max_pool2d(bad.float().unsqueeze(1), 3, stride=1, padding=1)
    tgt = Rendered(tgt_img, _landmarks(ident, grid_b, aus_b))
    return RenderedPair(source=src, target=tgt, flow=flow, texture_mask=mask)
