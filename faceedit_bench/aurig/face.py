"""Drawing the AU-rig face in canonical coordinates: the base face and the texture layers.

Shapes are approximate signed distances turned into coverage with a one-pixel
linear ramp (anti-aliasing); shading is Lambertian on an ellipsoid head plus
Gaussian height bumps (nose, cheeks, chin). ``draw_base`` depends only on the
identity; ``draw_layers`` adds what depends on the AUs and no warp can produce
(eyelids over the iris, mouth interior and teeth, furrows, wrinkles, cheek
shading). Both take canonical points ``c`` (N, H, W, 2) and return images
(N, 3, H, W). Left/right pairs are drawn once through ``|x|`` (the face is
mirror-symmetric in its canonical frame).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from faceedit_bench.api.aus import AU_MAX, au_index
from faceedit_bench.aurig.identity import Identity

Tensor = torch.Tensor


def _v(t: Tensor) -> Tensor:
    """(N,) -> (N, 1, 1) to broadcast over pixels."""
    return t.view(-1, 1, 1)


def _c(t: Tensor) -> Tensor:
    """(N, 3) -> (N, 3, 1, 1)."""
    return t.view(-1, 3, 1, 1)


def cover(d: Tensor, aa: float) -> Tensor:
    """Coverage of a shape with signed distance ``d`` (negative inside), ramp width ``aa``."""
    return (0.5 - d / aa).clamp_(0, 1)


def blend(img: Tensor, alpha: Tensor, colour: Tensor) -> Tensor:
    """In place ``img = img + alpha * (colour - img)``; alpha (N,H,W), colour (N,3,1,1) or (N,3,H,W)."""
    return img.add_(alpha.unsqueeze(1) * (colour - img))


def _ellipse(x: Tensor, y: Tensor, rx: Tensor | float, ry: Tensor | float) -> Tensor:
    """Approximate signed distance to an axis-aligned ellipse centred at the origin."""
    r = torch.minimum(torch.as_tensor(rx), torch.as_tensor(ry))
    return (torch.sqrt((x / rx) ** 2 + (y / ry) ** 2) - 1) * r


def _bump(x: Tensor, y: Tensor, sx: float | Tensor, sy: float | Tensor, amp: float, light: Tensor) -> Tensor:
    """Shading change of a Gaussian height bump (lit by ``light``: (N,2) as (N,1,1) pairs)."""
    g = amp * torch.exp(-0.5 * ((x / sx) ** 2 + (y / sy) ** 2))
    return g * (x / sx**2 * _v(light[:, 0]) + y / sy**2 * _v(light[:, 1]))


@dataclass
class BaseAux:
    """What the layers need from the base pass."""

    shade: Tensor  # (N, H, W) skin shading factor
    skin: Tensor  # (N, H, W) visible facial skin (face minus hair)


def draw_base(ident: Identity, c: Tensor, aa: float) -> tuple[Tensor, BaseAux]:
    """The identity at rest (eyes fully open under the lids, lips closed)."""
    x, y = c[..., 0], c[..., 1]
    u = x.abs()
    sgn = torch.sign(x)
    rx, ry = _v(ident.face_rx), _v(ident.face_ry)

    t = ((y + 1.2) / 2.6).clamp(0, 1).unsqueeze(1)
    img = _c(ident.bg_top) + t * (_c(ident.bg_bot) - _c(ident.bg_top))

    # long hair behind the head
    is_long = _v((ident.hair_style == 1).float())
    hw = rx + _v(ident.hair_vol) + 0.06
    back = torch.minimum(
        _ellipse(x, y + 0.1, hw, ry + 0.12),
        torch.maximum(u - hw, torch.maximum(-y, y - _v(ident.hair_len))),
    )
    blend(img, cover(back, aa) * is_long, _c(ident.hair_col * 0.8))

    # shoulders and neck
    sh = _ellipse(x, y - ry - 0.78, 1.05, 0.55)
    blend(img, cover(sh, aa), _c(ident.cloth) * (0.75 + 0.25 * (-x * _v(ident.light[:, 0])).unsqueeze(1)))
    neck = torch.maximum(u - rx * 0.42, 0.2 - y)
    neck_shade = 0.62 + 0.2 * ((y - ry) / 0.25).clamp(0, 1)
    blend(img, cover(neck, aa), _c(ident.skin) * neck_shade.unsqueeze(1))

    # ears
    ear = _ellipse(u - rx + 0.01, y - _v(ident.eye_y) - 0.09, 0.065, 0.12)
    blend(img, cover(ear, aa), _c(ident.skin * 0.85))

    # face oval, narrower towards the chin
    rx_y = rx * (1 - _v(ident.jaw) * (y / ry).clamp(0, 1) ** 2)
    face_d = _ellipse(x, y, rx_y, ry)
    face = cover(face_d, aa)
    s2 = ((x / rx_y) ** 2 + (y / ry) ** 2).clamp(max=1)
    lx, ly = _v(ident.light[:, 0]), _v(ident.light[:, 1])
    lam = (-(x / rx_y) * lx - (y / ry) * ly) * 0.6 + torch.sqrt(1 - s2) * 0.6
    lam = lam + _features_shading(ident, x, u, sgn, y)
    shade = (0.55 + 0.5 * lam).clamp(0.3, 1.25)
    blend(img, face, _c(ident.skin) * shade.unsqueeze(1))

    _draw_nose(img, ident, u, y, aa)
    _draw_lips(img, ident, x, y, aa, shade)
    _draw_eyes(img, ident, x, u, y, aa)
    _draw_brows(img, ident, u, y, aa)

    hair = _hair_front(ident, x, u, y, face, aa)
    hair_shade = (
        0.7 + 0.35 * (-(x * lx + (y + 0.2) * ly)).clamp(-1, 1) + 0.06 * torch.sin(70 * x + 25 * y * y)
    )
    blend(img, hair, _c(ident.hair_col) * hair_shade.unsqueeze(1))
    return img, BaseAux(shade=shade, skin=face * (1 - hair))


def _features_shading(ident: Identity, x: Tensor, u: Tensor, sgn: Tensor, y: Tensor) -> Tensor:
    """Lambert change from nose, cheek, chin and eye-socket height bumps."""
    light = ident.light
    ey, ny, my = _v(ident.eye_y), _v(ident.nose_y), _v(ident.mouth_y)
    s = _bump(x, y - (ey + ny) / 2 - 0.02, 0.03, (ny - ey) / 2.0, 0.012, light)
    s = s + _bump(x, y - ny + 0.015, 0.035, 0.03, 0.014, light)
    s = s + _bump(x, y - my - 0.2, 0.09, 0.06, 0.02, light)
    # mirrored bumps: local x is signed so each side is lit from the same light
    s = s + _bump(sgn * (u - 0.27), y - 0.12, 0.1, 0.09, 0.03, light)
    s = s + _bump(sgn * (u - _v(ident.eye_x)), y - ey, 0.075, 0.05, -0.012, light)
    return s * 6.0


def _draw_nose(img: Tensor, ident: Identity, u: Tensor, y: Tensor, aa: float) -> None:
    ny, nw = _v(ident.nose_y), _v(ident.nose_w)
    under = _ellipse(u, y - ny - 0.018, nw * 1.1, 0.02)
    blend(img, cover(under, 0.03) * 0.25, _c(ident.skin * 0.5))
    nostril = _ellipse(u - nw * 0.55, y - ny - 0.008, 0.017, 0.009)
    blend(img, cover(nostril, aa) * 0.75, _c(ident.skin * 0.3))


def _mouth_line(ident: Identity, x: Tensor) -> tuple[Tensor, Tensor]:
    """Canonical mouth line y and the lip profile ``sqrt(1 - (x / w)^2)``."""
    xw = x / _v(ident.mouth_w)
    prof = (1 - xw * xw).clamp(min=0).sqrt()
    return _v(ident.mouth_y) + 0.006 * xw * xw, prof


def _draw_lips(img: Tensor, ident: Identity, x: Tensor, y: Tensor, aa: float, shade: Tensor) -> None:
    ym, prof = _mouth_line(ident, x)
    bow = 1 - 0.35 * torch.exp(-((x / 0.025) ** 2))
    top = ym - _v(ident.lip_up) * prof * bow
    bot = ym + _v(ident.lip_lo) * prof
    d = torch.maximum(torch.maximum(top - y, y - bot), x.abs() - _v(ident.mouth_w))
    lower = ((y - ym) / 0.01).clamp(0, 1)
    col = _c(ident.lip_col) * (shade * (0.82 + 0.22 * lower)).unsqueeze(1)
    blend(img, cover(d, aa), col)
    line = (y - ym).abs() - 0.004
    blend(img, cover(line, aa) * (prof > 0).float() * 0.85, _c(ident.lip_col * 0.35))


def _eye_frame(ident: Identity, x: Tensor, u: Tensor, y: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Eye-local coordinates (signed towards the nose-outer axis) and the arc profile."""
    xe = u - _v(ident.eye_x)
    ye = y - _v(ident.eye_y) + _v(ident.eye_tilt) * xe
    tt = (1 - (xe / _v(ident.eye_w)) ** 2).clamp(min=0)
    return xe, ye, tt


def _draw_eyes(img: Tensor, ident: Identity, x: Tensor, u: Tensor, y: Tensor, aa: float) -> None:
    xe, ye, tt = _eye_frame(ident, x, u, y)
    eh = _v(ident.eye_h)
    d = torch.maximum(torch.maximum(-eh * tt - ye, ye - 0.7 * eh * tt), xe.abs() - _v(ident.eye_w))
    eye = cover(d, aa)
    blend(img, eye, torch.tensor([0.94, 0.93, 0.9]).view(1, 3, 1, 1) * (0.75 + 0.25 * tt).unsqueeze(1))
    ir = _v(ident.iris_r) * eh
    r = torch.sqrt(xe * xe + (ye - 0.1 * eh) ** 2)
    iris = cover(r - ir, aa) * eye
    ring = 0.55 + 0.45 * (1 - r / ir).clamp(0, 1)
    blend(img, iris, _c(ident.iris) * ring.unsqueeze(1))
    blend(img, cover(r - 0.45 * ir, aa) * eye, torch.full((1, 3, 1, 1), 0.04))
    hx = xe * torch.sign(x) + 0.3 * ir
    hl = torch.sqrt(hx * hx + (ye - 0.1 * eh + 0.35 * ir) ** 2) - 0.2 * ir
    blend(img, cover(hl, aa) * eye * 0.8, torch.ones(1, 3, 1, 1))
    crease = (ye + eh * tt * 1.0 + 0.03 * tt).abs() - 0.004
    blend(img, cover(crease, aa) * tt.sqrt() * 0.3, _c(ident.skin * 0.45))


def _draw_brows(img: Tensor, ident: Identity, u: Tensor, y: Tensor, aa: float) -> None:
    bw = _v(ident.brow_w)
    xb = u - _v(ident.eye_x) + 0.005
    xn = (xb / bw).clamp(-1, 1)
    yc = _v(ident.eye_y) - _v(ident.brow_gap) - _v(ident.brow_arch) * (1 - xn * xn) + 0.01 * xn
    th = _v(ident.brow_th) * (1 - 0.45 * (xn + 1) / 2)
    d = torch.maximum((y - yc).abs() - th, xb.abs() - bw)
    blend(img, cover(d, aa) * 0.95, _c(ident.brow_col))


def _hair_front(ident: Identity, x: Tensor, u: Tensor, y: Tensor, face: Tensor, aa: float) -> Tensor:
    """Coverage of the hair in front of the face: a volume cut by the hairline."""
    style = ident.hair_style
    vol = _v(ident.hair_vol)
    vol_d = _ellipse(x, y + 0.12, _v(ident.face_rx) + vol, _v(ident.face_ry) * 0.9 + vol)
    line = _v(ident.hairline + 0.2 * (style == 2).float() - 0.6 * (style == 3).float())
    fringe = 0.012 * torch.sin(u * 60) * _v((style == 2).float())
    above = cover(y - line - 0.5 * u * u - fringe, aa)
    sides = (1 - face) * cover(y - _v(ident.eye_y), aa) * _v((style != 3).float())
    return cover(vol_d, aa) * torch.maximum(above, sides)


@dataclass
class LayerState:
    """Per-sample strengths of the texture layers (each (N,), mostly in [0, 1])."""

    lid_up: Tensor
    lid_lo: Tensor
    mouth_open: Tensor
    furrow: Tensor
    wrinkle: Tensor
    cheek: Tensor
    nasolabial: Tensor
    dimple: Tensor
    chin: Tensor
    forehead: Tensor


def layer_state(aus: Tensor) -> LayerState:
    """Map 17 AU intensities (0-5) to layer strengths."""

    def a(name: str) -> Tensor:
        return aus[:, au_index(name)] / AU_MAX

    lid_up = (0.2 - 0.2 * a("AU05") + 0.95 * a("AU45") + 0.25 * a("AU07") + 0.1 * a("AU06")).clamp(0, 1)
    lid_lo = (0.02 + 0.3 * a("AU07") + 0.22 * a("AU06")).clamp(0, 1)
    return LayerState(
        lid_up=lid_up,
        lid_lo=lid_lo,
        mouth_open=(0.45 * a("AU25") + 0.8 * a("AU26")).clamp(0, 1),
        furrow=a("AU04"),
        wrinkle=a("AU09"),
        cheek=a("AU06"),
        nasolabial=(0.6 * a("AU12") + 0.5 * a("AU10") + 0.4 * a("AU09")).clamp(0, 1),
        dimple=a("AU14"),
        chin=a("AU17"),
        forehead=(0.5 * a("AU01") + 0.5 * a("AU02")).clamp(0, 1),
    )


def _line(d: Tensor, half: float, aa: float) -> Tensor:
    return cover(d.abs() - half, aa)


def draw_layers(img: Tensor, aux: BaseAux, ident: Identity, c: Tensor, aa: float, st: LayerState) -> Tensor:
    """Composite the AU-dependent texture layers over a copy of the base image."""
    img = img.clone()
    x, y = c[..., 0], c[..., 1]
    u = x.abs()
    skin = aux.skin
    sh = aux.shade.unsqueeze(1)
    dark = _c(ident.skin * 0.45) * sh
    ey, ny, my = _v(ident.eye_y), _v(ident.nose_y), _v(ident.mouth_y)
    brow_y = ey - _v(ident.brow_gap)

    # forehead lines (AU01/AU02), brow furrows (AU04), nose wrinkles (AU09)
    fl = torch.zeros_like(x)
    for k in range(3):
        fl = torch.maximum(fl, _line(y - brow_y + 0.08 + 0.045 * k - 0.5 * u * u, 0.004, aa))
    fl = fl * (1 - (u / 0.26) ** 2).clamp(0, 1)
    blend(img, fl * skin * _v(st.forehead) * 0.55, dark)
    fur = _line(u - 0.03 - 0.15 * (y - brow_y), 0.004, aa) * cover((y - brow_y - 0.02).abs() - 0.05, 0.02)
    blend(img, fur * skin * _v(st.furrow) * 0.7, dark)
    wr = torch.zeros_like(x)
    for k in range(3):
        wr = torch.maximum(wr, _line(y - ey - 0.025 - 0.028 * k + 3 * u * u, 0.004, aa))
    wr = wr * cover(u - 0.05, 0.02)
    blend(img, wr * skin * _v(st.wrinkle) * 0.7, dark)

    # cheek raise (AU06): rounder lit cheek, crow's feet
    xe, ye, _ = _eye_frame(ident, x, u, y)
    g = torch.exp(-0.5 * (((u - 0.25) / 0.07) ** 2 + ((y - ey - 0.13) / 0.05) ** 2))
    blend(img, g * skin * _v(st.cheek) * 0.35, _c(ident.skin * 1.12 + 0.04).clamp(0, 1) * sh)
    cx = xe - _v(ident.eye_w) - 0.015
    crow = torch.zeros_like(x)
    for slope in (-0.5, 0.0, 0.5):
        crow = torch.maximum(crow, _line(ye - slope * cx, 0.004, aa))
    crow = crow * cover((cx - 0.03).abs() - 0.03, aa)
    blend(img, crow * skin * _v(st.cheek) * 0.6, dark)

    # nasolabial fold (AU12/AU10/AU09), dimple (AU14), chin boss (AU17)
    t = ((y - ny) / (my + 0.03 - ny)).clamp(0, 1)
    xc = _v(ident.nose_w) + 0.03 + (_v(ident.mouth_w) - _v(ident.nose_w)) * t + 0.02 * torch.sin(3.14159 * t)
    fold = _line(u - xc, 0.005, aa) * cover((y - (ny + my + 0.03) / 2).abs() - (my + 0.03 - ny) / 2, aa)
    blend(img, fold * skin * _v(st.nasolabial) * 0.55, dark)
    dim = _ellipse(u - _v(ident.mouth_w) - 0.025, y - my - 0.005, 0.012, 0.018)
    blend(img, cover(dim, aa) * skin * _v(st.dimple) * 0.65, dark)
    chin_y = my + _v(ident.lip_lo) + 0.045 - 2.0 * u * u
    chin = _line(y - chin_y, 0.005, aa) * cover(u - 0.06, 0.02)
    blend(img, chin * skin * _v(st.chin) * 0.6, dark)

    _mouth_interior(img, ident, x, y, aa, st, sh)
    _eyelids(img, ident, x, u, y, aa, st, sh)
    return img


def _mouth_interior(
    img: Tensor, ident: Identity, x: Tensor, y: Tensor, aa: float, st: LayerState, sh: Tensor
) -> None:
    ym, prof = _mouth_line(ident, x / 0.85)
    h = 0.026 * _v(st.mouth_open) * prof * prof
    lens = torch.maximum((y - ym).abs() - h, -prof)
    inside = cover(lens, aa) * (h > 0).float()
    blend(img, inside, torch.tensor([0.32, 0.07, 0.09]).view(1, 3, 1, 1) * sh)
    teeth = cover(y - ym + 0.35 * h, aa) * inside * cover(x.abs() - 0.75 * _v(ident.mouth_w), aa)
    gaps = 0.9 + 0.1 * torch.cos(x * 140).abs()
    blend(img, teeth, torch.tensor([0.93, 0.91, 0.85]).view(1, 3, 1, 1) * (sh * gaps.unsqueeze(1)))


def _eyelids(
    img: Tensor, ident: Identity, x: Tensor, u: Tensor, y: Tensor, aa: float, st: LayerState, sh: Tensor
) -> None:
    xe, ye, tt = _eye_frame(ident, x, u, y)
    eh = _v(ident.eye_h)
    top, bot = -eh * tt, 0.7 * eh * tt
    span = bot - top
    lo = _v(st.lid_lo)
    up = torch.minimum(_v(st.lid_up), 1 - lo)
    lid_top = top + up * span
    lid_bot = bot - lo * span
    side = xe.abs() - _v(ident.eye_w)
    eye = cover(torch.maximum(torch.maximum(top - ye, ye - bot), side), aa)
    opening = cover(torch.maximum(torch.maximum(lid_top - ye, ye - lid_bot), side), aa)
    blend(img, eye * (1 - opening), _c(ident.skin * 0.92) * sh)
    lash = cover((ye - lid_top).abs() - 0.006, aa) * cover(xe.abs() - _v(ident.eye_w), aa)
    blend(img, lash * 0.9, torch.full((1, 3, 1, 1), 0.08))
