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
from faceedit_bench.aurig.face import BOXES, Frame, LayerState, draw_base, draw_layers, layer_state
from faceedit_bench.aurig.identity import Identity

MIN_RES, MAX_RES = 32, 256
COLOUR_TOL = 2.0 / 255  # layer difference that counts as a texture event
AREA_LIMIT = 3.0
RESIDUAL_TOL_PX = 0.25

Box = tuple[float, float, float, float]


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


def pixel_windows(ident: Identity, res: int, boxes: list[Box], margin: float) -> list[tuple[slice, slice]]:
    """Pixel rows/cols containing each face-space box (grown by ``margin``) for every identity."""
    corners = torch.tensor(
        [
            [
                [x0 - margin, y0 - margin],
                [x1 + margin, y0 - margin],
                [x0 - margin, y1 + margin],
                [x1 + margin, y1 + margin],
            ]
            for x0, x1, y0, y1 in boxes
        ]
    )  # (B, 4, 2)
    img = to_image(ident, corners.unsqueeze(0))  # (N, B, 4, 2)
    lo, hi = img.amin(dim=(0, 2)), img.amax(dim=(0, 2))  # (B, 2)
    # pixel i has its centre at (2i + 1) / res - 1; keep one extra pixel each side
    first = (((lo + 1) * res - 1) / 2).tolist()
    last = (((hi + 1) * res - 1) / 2).tolist()
    out = []
    for (fc, fr), (lc, lr) in zip(first, last, strict=True):
        c0, r0 = max(0, math.floor(fc) - 1), max(0, math.floor(fr) - 1)
        c1, r1 = min(res, math.ceil(lc) + 2), min(res, math.ceil(lr) + 2)
        out.append((slice(r0, max(r0, r1)), slice(c0, max(c0, c1))))
    return out


def _aa(ident: Identity, res: int) -> torch.Tensor:
    """Anti-aliasing ramp width in face units, (N, 1, 1): one pixel of each face."""
    return (2.0 / (res * ident.scale)).view(-1, 1, 1)


def _frame(ident: Identity, c: torch.Tensor, res: int, grids: list[torch.Tensor]) -> Frame:
    margin = max(float(g[:, :2].abs().amax()) for g in grids) + 2 * float(_aa(ident, res).max())
    windows = pixel_windows(ident, res, list(BOXES.values()), margin)
    return Frame(c, dict(zip(BOXES, windows, strict=True)))


def _landmarks(ident: Identity, grid: torch.Tensor, st: LayerState) -> torch.Tensor:
    from faceedit_bench.aurig.landmarks import canonical_landmarks

    c = canonical_landmarks(ident, st).unsqueeze(1)  # (N, 1, L, 2)
    q, _, _ = deform.invert_warp(grid, c)
    return to_image(ident, q)[:, 0]


CHUNK_PIXELS = 1 << 16  # batch elements per pass: keeps per-op tensors cache-sized


def _chunks(n: int, res: int) -> list[list[int]]:
    step = max(1, CHUNK_PIXELS // (res * res))
    return [list(range(s, min(n, s + step))) for s in range(0, n, step)]


def render(ident: Identity, aus: torch.Tensor, res: int) -> Rendered:
    """Render identities ``ident`` with AU intensities ``aus`` (N, 17) at ``res`` px."""
    check_resolution(res)
    if len(ident) != aus.shape[0]:
        raise ValueError(f"render: {len(ident)} identities but {aus.shape[0]} AU vectors")
    parts = [_render(ident.index(ix), aus[ix].float(), res)[0] for ix in _chunks(len(ident), res)]
    return Rendered(torch.cat([p.images for p in parts]), torch.cat([p.landmarks for p in parts]))


def _render(ident: Identity, aus: torch.Tensor, res: int) -> tuple[Rendered, torch.Tensor, LayerState]:
    """One chunk: the render, its displacement grid and its layer state."""
    grid = deform.field_grid(ident, aus)
    st = layer_state(aus)
    c = deform.warp_to_canonical(grid, to_face(ident, pixel_grid(res)))
    aa = _aa(ident, res)
    fr = _frame(ident, c, res, [grid])
    base, aux = draw_base(ident, fr, aa)
    img = draw_layers(base, aux, ident, fr, aa, st).clamp_(0, 1)
    return Rendered(img, _landmarks(ident, grid, st)), grid, st


def _support_window(
    ident: Identity, grid: torch.Tensor, res: int, margin: float
) -> tuple[slice, slice] | None:
    """Pixels whose face point lies within ``margin`` of where ``D`` is not (numerically) zero."""
    box = deform.support_box(grid)
    return None if box is None else pixel_windows(ident, res, [box], margin)[0]


def _backward_flow(
    ident: Identity, grid_a: torch.Tensor, c_t: torch.Tensor, res: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Face points q_s with ``W_a(q_s) = c_t``, Newton residual and ``det(grad W_a)(q_s)``.

    Newton runs only in the window where ``D_a`` is not (numerically) zero; elsewhere
    ``q_s = c_t`` exactly up to ``deform.SUPPORT_TOL``.
    """
    q_s = c_t.clone()
    residual = torch.zeros(c_t.shape[:3])
    det = torch.ones(c_t.shape[:3])
    win = _support_window(ident, grid_a, res, float(grid_a[:, :2].abs().amax()) + 2.0 / res)
    if win is not None:
        rs, cs = win
        q, r, d = deform.invert_warp(grid_a, c_t[:, rs, cs].contiguous())
        q_s[:, rs, cs], residual[:, rs, cs], det[:, rs, cs] = q, r, d
    return q_s, residual, det


def _area_det(ident: Identity, grid: torch.Tensor, q: torch.Tensor, res: int) -> torch.Tensor:
    """``det(I - grad D)`` at face points ``q`` (N, H, W, 2); 1 outside the support window of ``D``."""
    det = torch.ones(q.shape[:3])
    win = _support_window(ident, grid, res, 2.0 / res)
    if win is not None:
        rs, cs = win
        det[:, rs, cs] = deform.jacobian_det(grid, q[:, rs, cs].contiguous())
    return det


def render_pair(ident: Identity, aus_a: torch.Tensor, aus_b: torch.Tensor, res: int) -> RenderedPair:
    """Source (AUs a) and target (AUs b) of the same identities, with flow and texture mask."""
    check_resolution(res)
    if not len(ident) == aus_a.shape[0] == aus_b.shape[0]:
        raise ValueError("render_pair: identities, source AUs and target AUs differ in number")
    parts = [
        _render_pair(ident.index(ix), aus_a[ix].float(), aus_b[ix].float(), res)
        for ix in _chunks(len(ident), res)
    ]
    return RenderedPair(
        source=Rendered(
            torch.cat([p.source.images for p in parts]), torch.cat([p.source.landmarks for p in parts])
        ),
        target=Rendered(
            torch.cat([p.target.images for p in parts]), torch.cat([p.target.landmarks for p in parts])
        ),
        flow=torch.cat([p.flow for p in parts]),
        texture_mask=torch.cat([p.texture_mask for p in parts]),
    )


def _render_pair(ident: Identity, aus_a: torch.Tensor, aus_b: torch.Tensor, res: int) -> RenderedPair:
    src, grid_a, st_a = _render(ident, aus_a, res)
    grid_b = deform.field_grid(ident, aus_b)
    st_b = layer_state(aus_b)
    q_t = to_face(ident, pixel_grid(res))
    c_t = deform.warp_to_canonical(grid_b, q_t)
    aa = _aa(ident, res)
    fr = _frame(ident, c_t, res, [grid_a, grid_b])
    base, aux = draw_base(ident, fr, aa)
    tgt_img = draw_layers(base, aux, ident, fr, aa, st_b).clamp_(0, 1)
    as_a = draw_layers(base, aux, ident, fr, aa, st_a).clamp_(0, 1)

    q_s, residual, det_a = _backward_flow(ident, grid_a, c_t, res)
    flow = to_image(ident, q_s)
    area = _area_det(ident, grid_b, q_t, res) / det_a
    bad = (tgt_img - as_a).abs().amax(1) > COLOUR_TOL
    bad |= residual / _aa(ident, res) > RESIDUAL_TOL_PX
    bad |= (area.log().abs() > math.log(AREA_LIMIT)) | ~torch.isfinite(area)
    bad |= (flow.abs() > 1).any(-1)
    mask = F.max_pool2d(bad.float().unsqueeze(1), 3, stride=1, padding=1)
    tgt = Rendered(tgt_img, _landmarks(ident, grid_b, st_b))
    return RenderedPair(source=src, target=tgt, flow=flow, texture_mask=mask)
