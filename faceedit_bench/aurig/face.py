"""Drawing the AU-rig face in canonical coordinates: the base face and the texture layers.

Shapes are approximate signed distances turned into coverage with a one-pixel
linear ramp (anti-aliasing); shading is Lambertian on an ellipsoid head plus
compact polynomial height bumps (nose, cheeks, chin, eye sockets). ``draw_base``
depends only on the identity; ``draw_layers`` adds what depends on the AUs and no
warp can produce (eyelids over the iris, mouth interior and teeth, furrows,
wrinkles, cheek shading). Left/right pairs are drawn once through ``|x|`` (the
face is mirror-symmetric in its canonical frame).

For speed every feature is drawn only inside its window (:class:`Frame`): a pixel
rectangle, shared by the batch, guaranteed to contain the feature's canonical box
``BOXES[name]`` (boxes bound the feature over every identity the sampler can draw).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from faceedit_bench.api.aus import AU_MAX, au_index
from faceedit_bench.aurig.identity import Identity

Tensor = torch.Tensor
MOUTH_GAP = 0.04  # canonical half-height of the open mouth (the warp magnifies it)

# Canonical boxes (x0, x1, y0, y1) bounding each group of features for every identity.
BOXES: dict[str, tuple[float, float, float, float]] = {
    "head": (-0.8, 0.8, -1.0, 0.05),  # hair in front of the face (never below the eyes)
    "lower": (-1.3, 1.3, 0.2, 2.2),  # neck and shoulders (clipped to the image)
    "ears": (-0.72, 0.72, -0.25, 0.25),
    "face": (-0.66, 0.66, -0.8, 0.8),  # face oval and its shading
    "upper": (-0.48, 0.48, -0.52, 0.1),  # brows, eyes, lids, forehead lines, furrows, crow's feet
    "cheeks": (-0.56, 0.56, -0.16, 0.36),  # cheek bumps and the AU06 cheek layer
    "chin": (-0.25, 0.25, 0.35, 0.8),
    "nose": (-0.14, 0.14, -0.1, 0.25),
    # the bridge's shading bump: centre (eye_y + nose_y) / 2 + 0.02, reach 2.5 * (nose_y - eye_y) / 2
    "bridge": (-0.08, 0.08, -0.30, 0.43),
    "mouth": (-0.3, 0.3, 0.1, 0.56),
}


class Frame:
    """Canonical coordinates ``c`` (N, H, W, 2) and the pixel windows of each feature group."""

    def __init__(self, c: Tensor, windows: dict[str, tuple[slice, slice]]) -> None:
        self.c = c
        self.windows = {"all": (slice(None), slice(None)), **windows}
        self._xy: dict[str, tuple[Tensor, Tensor, Tensor]] = {}

    def xy(self, name: str) -> tuple[Tensor, Tensor, Tensor]:
        """``(x, y, |x|)`` inside window ``name``, each (N, h, w)."""
        if name not in self._xy:
            rs, cs = self.windows[name]
            x = self.c[:, rs, cs, 0].contiguous()
            self._xy[name] = (x, self.c[:, rs, cs, 1].contiguous(), x.abs())
        return self._xy[name]

    def view(self, t: Tensor, name: str) -> Tensor:
        """The window ``name`` of a (N, [C,] H, W) tensor (a view: writes go through)."""
        rs, cs = self.windows[name]
        return t[..., rs, cs]


def _v(t: Tensor) -> Tensor:
    """(N,) -> (N, 1, 1) to broadcast over pixels."""
    return t.view(-1, 1, 1)


def _c(t: Tensor) -> Tensor:
    """(N, 3) -> (N, 3, 1, 1)."""
    return t.view(-1, 3, 1, 1)


def cover(d: Tensor, aa: float | Tensor) -> Tensor:
    """Coverage of a shape with signed distance ``d`` (negative inside), ramp width ``aa``."""
    return (0.5 - d / aa).clamp_(0, 1)


def blend(img: Tensor, alpha: Tensor, colour: Tensor) -> None:
    """In place ``img += alpha * (colour - img)``; alpha (N,h,w), colour (N,3,1,1) or (N,3,h,w)."""
    img.lerp_(colour, alpha.unsqueeze(1))


def _ellipse(x: Tensor, y: Tensor, rx: Tensor | float, ry: Tensor | float) -> Tensor:
    """Approximate signed distance to an axis-aligned ellipse centred at the origin."""
    r = torch.minimum(torch.as_tensor(rx), torch.as_tensor(ry))
    return (torch.sqrt((x / rx) ** 2 + (y / ry) ** 2) - 1) * r


def _tri(t: Tensor) -> Tensor:
    """Triangle wave in [-1, 1] with period 1 (a cheap stand-in for a sine)."""
    return (t - t.floor() - 0.5).abs() * 4 - 1


def _bump(x: Tensor, y: Tensor, sx: float | Tensor, sy: float | Tensor, amp: float, light: Tensor) -> Tensor:
    """Lambert change of a compact bump ``amp * (1 - r^2/6.25)^2`` (about a Gaussian of sigma 1)."""
    tx, ty = x / sx, y / sy
    t = (1 - (tx * tx + ty * ty) * 0.16).clamp_(min=0)
    return (amp * 0.64) * t * (x / sx**2 * _v(light[:, 0]) + y / sy**2 * _v(light[:, 1]))


@dataclass
class BaseAux:
    """What the layers need from the base pass (full-size maps)."""

    shade: Tensor  # (N, H, W) skin shading factor
    skin: Tensor  # (N, H, W) visible facial skin (face minus hair)


def draw_base(ident: Identity, fr: Frame, aa: Tensor) -> tuple[Tensor, BaseAux]:
    """The identity at rest (eyes fully open under the lids, lips closed): (N, 3, H, W)."""
    x, y, u = fr.xy("all")
    rx, ry = _v(ident.face_rx), _v(ident.face_ry)
    t = ((y + 1.2) / 2.6).clamp(0, 1).unsqueeze(1)
    img = _c(ident.bg_top) + t * _c(ident.bg_bot - ident.bg_top)

    if bool((ident.hair_style == 1).any()):  # skipping an all-zero blend changes no pixel
        is_long = _v((ident.hair_style == 1).float())
        hw = rx + _v(ident.hair_vol) + 0.06
        top = _ellipse(x, y + 0.1, hw, ry + 0.12)
        back = torch.minimum(top, torch.maximum(u - hw, torch.maximum(-y, y - _v(ident.hair_len))))
        blend(img, cover(back, aa) * is_long, _c(ident.hair_col * 0.8))
    x, y, u = fr.xy("lower")
    low = fr.view(img, "lower")
    sh = _ellipse(x, y - ry - 0.78, 1.05, 0.55)
    blend(low, cover(sh, aa), _c(ident.cloth) * (0.75 - 0.25 * x * _v(ident.light[:, 0])).unsqueeze(1))
    neck = torch.maximum(u - rx * 0.42, 0.2 - y)
    blend(low, cover(neck, aa), _c(ident.skin) * (0.62 + 0.2 * ((y - ry) / 0.25).clamp(0, 1)).unsqueeze(1))

    x, y, u = fr.xy("ears")
    ear = _ellipse(u - rx + 0.01, y - _v(ident.eye_y) - 0.09, 0.065, 0.12)
    blend(fr.view(img, "ears"), cover(ear, aa), _c(ident.skin * 0.85))
    face = torch.zeros(img.shape[0], *img.shape[2:])
    shade = torch.ones_like(face)
    x, y, u = fr.xy("face")
    fr.view(face, "face").copy_(_face_cover(ident, x, y, aa)[0])
    _shade_face(img, face, shade, ident, fr)
    _draw_nose(fr.view(img, "nose"), ident, fr, aa)
    _draw_lips(fr.view(img, "mouth"), fr.view(shade, "mouth"), ident, fr, aa)
    _draw_eyes(fr.view(img, "upper"), ident, fr, aa)
    _draw_brows(fr.view(img, "upper"), ident, fr, aa)
    hair = torch.zeros_like(face)
    _draw_hair(fr.view(img, "head"), fr.view(face, "head"), fr.view(hair, "head"), ident, fr, aa)
    return img, BaseAux(shade=shade, skin=face * (1 - hair))


def _face_cover(ident: Identity, x: Tensor, y: Tensor, aa: float | Tensor) -> tuple[Tensor, Tensor]:
    """Coverage of the face oval (narrower towards the chin) and its local x radius."""
    rx, ry = _v(ident.face_rx), _v(ident.face_ry)
    rx_y = rx * (1 - _v(ident.jaw) * (y / ry).clamp(0, 1) ** 2)
    return cover(_ellipse(x, y, rx_y, ry), aa), rx_y


def _shade_face(img: Tensor, face: Tensor, shade: Tensor, ident: Identity, fr: Frame) -> None:
    """Lambert shading of an ellipsoid head plus nose, cheek, chin and eye-socket bumps.

    Works on full-size maps; each bump is evaluated only in its own window (all
    inside the face window), then the skin is blended in once.
    """
    x, y, _ = fr.xy("face")
    _, rx_y = _face_cover(ident, x, y, 0.01)
    lx, ly = _v(ident.light[:, 0]), _v(ident.light[:, 1])
    tx, ty = x / rx_y, y / _v(ident.face_ry)
    lam = fr.view(shade, "face")
    lam.copy_((-tx * lx - ty * ly + torch.sqrt(1 - (tx * tx + ty * ty).clamp(max=1))) * 0.6)
    light = ident.light
    ey, ny, my = _v(ident.eye_y), _v(ident.nose_y), _v(ident.mouth_y)
    x, y, u = fr.xy("bridge")
    fr.view(shade, "bridge").add_(
        2.5 * _bump(x, y - (ey + ny) / 2 - 0.02, 0.03, (ny - ey) / 2.0, 0.012, light)
    )
    x, y, u = fr.xy("nose")
    fr.view(shade, "nose").add_(2.5 * _bump(x, y - ny + 0.015, 0.035, 0.03, 0.014, light))
    x, y, u = fr.xy("chin")
    fr.view(shade, "chin").add_(2.5 * _bump(x, y - my - 0.2, 0.09, 0.06, 0.02, light))
    # mirrored bumps: local x is signed so that both sides are lit by the same light
    x, y, u = fr.xy("cheeks")
    fr.view(shade, "cheeks").add_(2.5 * _bump(torch.sign(x) * (u - 0.27), y - 0.1, 0.11, 0.1, 0.02, light))
    x, y, u = fr.xy("upper")
    fr.view(shade, "upper").add_(
        2.5 * _bump(torch.sign(x) * (u - _v(ident.eye_x)), y - ey, 0.075, 0.05, -0.012, light)
    )
    lam.mul_(0.5).add_(0.55).clamp_(0.3, 1.25)
    blend(fr.view(img, "face"), fr.view(face, "face"), _c(ident.skin) * lam.unsqueeze(1))


def _draw_nose(img: Tensor, ident: Identity, fr: Frame, aa: Tensor) -> None:
    _, y, u = fr.xy("nose")
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


def _draw_lips(img: Tensor, shade: Tensor, ident: Identity, fr: Frame, aa: Tensor) -> None:
    x, y, u = fr.xy("mouth")
    ym, prof = _mouth_line(ident, x)
    bow = 1 - 0.35 * (1 - (x / 0.04) ** 2).clamp(min=0) ** 2
    top = ym - _v(ident.lip_up) * prof * bow
    bot = ym + _v(ident.lip_lo) * prof
    d = torch.maximum(torch.maximum(top - y, y - bot), u - _v(ident.mouth_w))
    lower = ((y - ym) / 0.01).clamp(0, 1)
    blend(img, cover(d, aa), _c(ident.lip_col) * (shade * (0.82 + 0.22 * lower)).unsqueeze(1))
    line = (y - ym).abs() - 0.004
    blend(img, cover(line, aa) * (prof > 0).float() * 0.85, _c(ident.lip_col * 0.35))


def _eye_frame(ident: Identity, u: Tensor, y: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Eye-local coordinates (x towards the ear) and the arc profile ``1 - (x / w)^2``."""
    xe = u - _v(ident.eye_x)
    ye = y - _v(ident.eye_y) + _v(ident.eye_tilt) * xe
    tt = (1 - (xe / _v(ident.eye_w)) ** 2).clamp(min=0)
    return xe, ye, tt


def _draw_eyes(img: Tensor, ident: Identity, fr: Frame, aa: Tensor) -> None:
    x, y, u = fr.xy("upper")
    xe, ye, tt = _eye_frame(ident, u, y)
    eh = _v(ident.eye_h)
    d = torch.maximum(torch.maximum(-eh * tt - ye, ye - 0.7 * eh * tt), xe.abs() - _v(ident.eye_w))
    eye = cover(d, aa)
    blend(img, eye, torch.tensor([0.94, 0.93, 0.9]).view(1, 3, 1, 1) * (0.75 + 0.25 * tt).unsqueeze(1))
    ir = _v(ident.iris_r) * eh
    yi = ye - 0.1 * eh
    r = torch.sqrt(xe * xe + yi * yi)
    iris = cover(r - ir, aa) * eye
    blend(img, iris, _c(ident.iris) * (0.55 + 0.45 * (1 - r / ir).clamp(0, 1)).unsqueeze(1))
    blend(img, cover(r - 0.45 * ir, aa) * eye, torch.full((1, 3, 1, 1), 0.04))
    hx = xe * torch.sign(x) + 0.3 * ir
    hl = torch.sqrt(hx * hx + (yi + 0.35 * ir) ** 2) - 0.2 * ir
    blend(img, cover(hl, aa) * eye * 0.8, torch.ones(1, 3, 1, 1))
    crease = (ye + eh * tt + 0.03 * tt).abs() - 0.004
    blend(img, cover(crease, aa) * tt.sqrt() * 0.3, _c(ident.skin * 0.45))


def _draw_brows(img: Tensor, ident: Identity, fr: Frame, aa: Tensor) -> None:
    _, y, u = fr.xy("upper")
    bw = _v(ident.brow_w)
    xb = u - _v(ident.eye_x) + 0.005
    xn = (xb / bw).clamp(-1, 1)
    yc = _v(ident.eye_y) - _v(ident.brow_gap) - _v(ident.brow_arch) * (1 - xn * xn) + 0.01 * xn
    th = _v(ident.brow_th) * (1 - 0.45 * (xn + 1) / 2)
    d = torch.maximum((y - yc).abs() - th, xb.abs() - bw)
    blend(img, cover(d, aa) * 0.95, _c(ident.brow_col))


def _draw_hair(img: Tensor, face: Tensor, hair: Tensor, ident: Identity, fr: Frame, aa: Tensor) -> None:
    """Hair in front of the face: a volume cut by the hairline (style-dependent)."""
    x, y, u = fr.xy("head")
    style = ident.hair_style
    vol = _v(ident.hair_vol)
    vol_d = _ellipse(x, y + 0.12, _v(ident.face_rx) + vol, _v(ident.face_ry) * 0.9 + vol)
    # bangs stop well above the brows so that AU01/02/04 stay visible
    bangs = ident.eye_y - ident.brow_gap - 0.17
    line = _v(torch.where(style == 2, bangs, ident.hairline - 0.6 * (style == 3).float()))
    fringe = 0.015 * _tri(u * 6) * _v((style == 2).float())
    above = cover(y - line - 0.5 * u * u - fringe, aa)
    sides = (1 - face) * cover(y - _v(ident.eye_y), aa) * _v((style != 3).float())
    hair.copy_(cover(vol_d, aa) * torch.maximum(above, sides))
    lx, ly = _v(ident.light[:, 0]), _v(ident.light[:, 1])
    strands = _tri(7 * x / (y + 1.3) + 0.6 * _tri(3 * y))
    hair_shade = 0.75 + 0.3 * (-(x * lx + (y + 0.2) * ly)).clamp(-1, 1) + 0.03 * strands
    blend(img, hair, _c(ident.hair_col) * hair_shade.unsqueeze(1))


@dataclass
class LayerState:
    """Per-sample strengths of the texture layers (each (N,), in [0, 1])."""

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
    press: Tensor
    stretch: Tensor


def layer_state(aus: Tensor) -> LayerState:
    """Map 17 AU intensities (0-5) to layer strengths."""

    def a(name: str) -> Tensor:
        return aus[:, au_index(name)] / AU_MAX

    return LayerState(
        lid_up=(0.36 - 0.36 * a("AU05") + 0.62 * a("AU45") + 0.08 * a("AU07")).clamp(0, 1),
        lid_lo=(0.02 + 0.5 * a("AU07") + 0.18 * a("AU06")).clamp(0, 1),
        mouth_open=(0.7 * a("AU25") + 0.3 * a("AU26")).clamp(0, 1),
        furrow=a("AU04"),
        wrinkle=a("AU09"),
        cheek=a("AU06"),
        nasolabial=(0.6 * a("AU12") + 0.5 * a("AU10") + 0.4 * a("AU09")).clamp(0, 1),
        dimple=a("AU14"),
        chin=a("AU17"),
        forehead=(0.5 * a("AU01") + 0.5 * a("AU02")).clamp(0, 1),
        press=a("AU23"),
        stretch=a("AU20"),
    )


def _line(d: Tensor, half: float, aa: Tensor) -> Tensor:
    return cover(d.abs() - half, aa)


def draw_layers(base: Tensor, aux: BaseAux, ident: Identity, fr: Frame, aa: Tensor, st: LayerState) -> Tensor:
    """A copy of ``base`` with the AU-dependent texture layers composited on top."""
    img = base.clone()
    _upper_layers(
        fr.view(img, "upper"), fr.view(aux.skin, "upper"), fr.view(aux.shade, "upper"), ident, fr, aa, st
    )
    _cheek_layer(
        fr.view(img, "cheeks"), fr.view(aux.skin, "cheeks"), fr.view(aux.shade, "cheeks"), ident, fr, st
    )
    _nose_layer(
        fr.view(img, "nose"), fr.view(aux.skin, "nose"), fr.view(aux.shade, "nose"), ident, fr, aa, st
    )
    _mouth_layers(
        fr.view(img, "mouth"), fr.view(aux.skin, "mouth"), fr.view(aux.shade, "mouth"), ident, fr, aa, st
    )
    return img


def _dark(ident: Identity, shade: Tensor) -> Tensor:
    return _c(ident.skin * 0.45) * shade.unsqueeze(1)


def _upper_layers(img, skin, shade, ident: Identity, fr: Frame, aa: Tensor, st: LayerState) -> None:
    """Forehead lines (AU01/02), brow furrows (AU04), crow's feet (AU06), eyelids (AU05/07/45)."""
    _, y, u = fr.xy("upper")
    dark = _dark(ident, shade)
    brow_y = _v(ident.eye_y) - _v(ident.brow_gap)
    fl = torch.zeros_like(y)
    for k in range(3):
        fl = torch.maximum(fl, _line(y - brow_y + 0.08 + 0.045 * k - 0.5 * u * u, 0.004, aa))
    fl = fl * (1 - (u / 0.26) ** 2).clamp(0, 1)
    blend(img, fl * skin * _v(st.forehead) * 0.55, dark)
    fur = _line(u - 0.03 - 0.15 * (y - brow_y), 0.004, aa) * cover((y - brow_y - 0.02).abs() - 0.05, 0.02)
    blend(img, fur * skin * _v(st.furrow) * 0.7, dark)

    xe, ye, tt = _eye_frame(ident, u, y)
    cx = xe - _v(ident.eye_w) - 0.015
    crow = torch.zeros_like(y)
    for slope in (-0.5, 0.0, 0.5):
        crow = torch.maximum(crow, _line(ye - slope * cx, 0.004, aa))
    crow = crow * cover((cx - 0.03).abs() - 0.03, aa)
    blend(img, crow * skin * _v(st.cheek) * 0.6, dark)

    eh = _v(ident.eye_h)
    top, bot = -eh * tt, 0.7 * eh * tt
    span = bot - top
    lo = _v(st.lid_lo)
    lid_top = top + torch.minimum(_v(st.lid_up), 1 - lo) * span
    lid_bot = bot - lo * span
    side = xe.abs() - _v(ident.eye_w)
    eye = cover(torch.maximum(torch.maximum(top - ye, ye - bot), side), aa)
    opening = cover(torch.maximum(torch.maximum(lid_top - ye, ye - lid_bot), side), aa)
    blend(img, eye * (1 - opening), _c(ident.skin * 0.92) * shade.unsqueeze(1))
    lash = cover((ye - lid_top).abs() - 0.008, aa) * cover(side, aa)
    blend(img, lash * 0.9, torch.full((1, 3, 1, 1), 0.08))


def _cheek_layer(img, skin, shade, ident: Identity, fr: Frame, st: LayerState) -> None:
    """Cheek raise (AU06): a rounder, lit apple of the cheek."""
    _, y, u = fr.xy("cheeks")
    g = (1 - (((u - 0.25) / 0.07) ** 2 + ((y - _v(ident.eye_y) - 0.13) / 0.05) ** 2) * 0.16).clamp(min=0) ** 2
    colour = (_c(ident.skin) * 1.12 + 0.04).clamp(0, 1) * shade.unsqueeze(1)
    blend(img, g * skin * _v(st.cheek) * 0.35, colour)


def _nose_layer(img, skin, shade, ident: Identity, fr: Frame, aa: Tensor, st: LayerState) -> None:
    """Nose wrinkles (AU09)."""
    _, y, u = fr.xy("nose")
    wr = torch.zeros_like(y)
    for k in range(3):
        wr = torch.maximum(wr, _line(y - _v(ident.eye_y) - 0.025 - 0.028 * k + 3 * u * u, 0.004, aa))
    blend(img, wr * cover(u - 0.05, 0.02) * skin * _v(st.wrinkle) * 0.7, _dark(ident, shade))


def _mouth_layers(img, skin, shade, ident: Identity, fr: Frame, aa: Tensor, st: LayerState) -> None:
    """Nasolabial fold (AU12/10/09), dimple (AU14), lip stretch (AU20), chin boss (AU17), pressed lips (AU23), mouth (AU25/26)."""
    x, y, u = fr.xy("mouth")
    dark = _dark(ident, shade)
    ny, my, nw, mw = _v(ident.nose_y), _v(ident.mouth_y), _v(ident.nose_w), _v(ident.mouth_w)
    t = ((y - ny) / (my + 0.03 - ny)).clamp(0, 1)
    xc = nw + 0.03 + (mw - nw) * t + 0.08 * t * (1 - t)
    fold = _line(u - xc, 0.005, aa) * cover((y - (ny + my + 0.03) / 2).abs() - (my + 0.03 - ny) / 2, aa)
    blend(img, fold * skin * _v(st.nasolabial) * 0.55, dark)
    dim = _line(u - mw - 0.02 - 2 * (y - my) ** 2, 0.014, aa) * cover((y - my).abs() - 0.06, aa)
    blend(img, dim * skin * _v(st.dimple), dark)
    # stretched lips (AU20): short horizontal creases out from the corners
    stretch = _line(y - my - 0.01, 0.006, aa) * cover((u - mw - 0.05).abs() - 0.04, aa)
    blend(img, stretch * skin * _v(st.stretch) * 0.8, dark)
    chin = _line(y - my - _v(ident.lip_lo) - 0.045 + 2.0 * u * u, 0.01, aa) * cover(u - 0.08, 0.02)
    blend(img, chin * skin * _v(st.chin), dark)

    ym, prof = _mouth_line(ident, x)
    # pressed lips (AU23) lose their red: blend the lip band towards the skin colour
    press = cover((y - ym).abs() - 0.03, aa) * cover(u - mw, aa)
    blend(img, press * _v(st.press) * 0.6, _c(ident.skin) * shade.unsqueeze(1))

    ym, prof = _mouth_line(ident, x / 0.85)
    h = MOUTH_GAP * _v(st.mouth_open) * prof * prof
    inside = cover(torch.maximum((y - ym).abs() - h, -prof), aa) * (h > 0).float()
    sh = shade.unsqueeze(1)
    blend(img, inside, torch.tensor([0.32, 0.07, 0.09]).view(1, 3, 1, 1) * sh)
    teeth = cover(y - ym + 0.35 * h, aa) * inside * cover(u - 0.75 * mw, aa)
    gaps = 0.9 + 0.1 * _tri(x * 22).abs()
    blend(img, teeth, torch.tensor([0.93, 0.91, 0.85]).view(1, 3, 1, 1) * (sh * gaps.unsqueeze(1)))
