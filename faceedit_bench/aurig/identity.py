"""AU-rig identity parameters: everything about a synthetic person except the expression.

Distances are in *face units*: the canonical face is centred at the origin, x to
the right, y down, and the face oval is about 1.2 units wide. The pose (roll,
squash, scale, shift) maps face units to the image's ``[-1, 1]`` coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import torch

from faceedit_bench.aurig.rng import STREAM_IDENTITY, uniforms

_SKIN = torch.tensor(
    [
        [0.98, 0.86, 0.76],
        [0.93, 0.77, 0.64],
        [0.84, 0.64, 0.50],
        [0.68, 0.47, 0.34],
        [0.48, 0.32, 0.22],
        [0.34, 0.22, 0.16],
    ]
)
_HAIR = torch.tensor(
    [
        [0.07, 0.06, 0.05],
        [0.22, 0.14, 0.08],
        [0.42, 0.28, 0.16],
        [0.82, 0.67, 0.42],
        [0.58, 0.24, 0.10],
        [0.62, 0.62, 0.62],
    ]
)
_IRIS = torch.tensor(
    [[0.36, 0.21, 0.10], [0.16, 0.10, 0.07], [0.28, 0.48, 0.74], [0.33, 0.50, 0.30], [0.48, 0.54, 0.60]]
)

HAIR_STYLES = ("short", "long", "bangs", "bald")


@dataclass
class Identity:
    """A batch of identities: every field is a float32 tensor with leading dim N."""

    face_rx: torch.Tensor
    face_ry: torch.Tensor
    jaw: torch.Tensor  # how much the oval narrows towards the chin
    skin: torch.Tensor  # (N, 3)
    eye_x: torch.Tensor
    eye_y: torch.Tensor
    eye_w: torch.Tensor  # half width of the eye opening
    eye_h: torch.Tensor  # half height of the upper arc
    eye_tilt: torch.Tensor
    iris: torch.Tensor  # (N, 3)
    iris_r: torch.Tensor  # iris radius / eye_h
    brow_gap: torch.Tensor  # brow centre line above the eye centre
    brow_w: torch.Tensor
    brow_th: torch.Tensor
    brow_arch: torch.Tensor
    brow_col: torch.Tensor  # (N, 3)
    nose_y: torch.Tensor
    nose_w: torch.Tensor
    mouth_y: torch.Tensor
    mouth_w: torch.Tensor
    lip_up: torch.Tensor
    lip_lo: torch.Tensor
    lip_col: torch.Tensor  # (N, 3)
    hair_col: torch.Tensor  # (N, 3)
    hair_style: torch.Tensor  # index into HAIR_STYLES (as float)
    hairline: torch.Tensor
    hair_vol: torch.Tensor
    hair_len: torch.Tensor
    light: torch.Tensor  # (N, 2) light direction in the image plane (z is implied)
    bg_top: torch.Tensor  # (N, 3)
    bg_bot: torch.Tensor  # (N, 3)
    cloth: torch.Tensor  # (N, 3)
    roll: torch.Tensor
    squash: torch.Tensor  # yaw-ish horizontal squash
    scale: torch.Tensor
    shift: torch.Tensor  # (N, 2)

    def __len__(self) -> int:
        return int(self.face_rx.shape[0])

    def index(self, idx: torch.Tensor | list[int]) -> Identity:
        """Rows ``idx`` of every field (repeats allowed)."""
        idx_t = torch.as_tensor(idx, dtype=torch.long)
        return Identity(**{f.name: getattr(self, f.name)[idx_t] for f in fields(self)})


def _palette(colours: torch.Tensor, u: torch.Tensor, smooth: bool) -> torch.Tensor:
    """Pick (or, if ``smooth``, interpolate along) a palette with uniforms ``u``."""
    k = colours.shape[0]
    if not smooth:
        return colours[(u * k).long().clamp(max=k - 1)]
    pos = u * (k - 1)
    lo = pos.floor().long().clamp(max=k - 2)
    frac = (pos - lo.float()).unsqueeze(1)
    return colours[lo] * (1 - frac) + colours[lo + 1] * frac


def sample_identities(keys: np.ndarray) -> Identity:
    """Identity parameters for 64-bit identity ``keys`` (see :mod:`faceedit_bench.aurig.rng`)."""
    u = torch.from_numpy(uniforms(keys, 48, STREAM_IDENTITY)).float()
    it = iter(range(48))

    def r(lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * u[:, next(it)]

    def rgb(lo: float, hi: float) -> torch.Tensor:
        return torch.stack([r(lo, hi), r(lo, hi), r(lo, hi)], dim=1)

    skin = _palette(_SKIN, u[:, next(it)], smooth=True) * r(0.94, 1.04).unsqueeze(1)
    hair = _palette(_HAIR, u[:, next(it)], smooth=False) * r(0.8, 1.15).unsqueeze(1)
    brow_mix = r(0.3, 0.8).unsqueeze(1)
    blush = torch.tensor([0.72, 0.28, 0.30])
    lip_mix = r(0.35, 0.6).unsqueeze(1)
    bg_base = rgb(0.25, 0.9)
    light_angle = r(-2.6, -0.5)  # from the upper left to the upper right
    ident = Identity(
        face_rx=r(0.54, 0.63),
        face_ry=r(0.68, 0.76),
        jaw=r(0.12, 0.30),
        skin=skin.clamp(0, 1),
        eye_x=r(0.21, 0.25),
        eye_y=r(-0.10, -0.05),
        eye_w=r(0.095, 0.115),
        eye_h=r(0.053, 0.06),
        eye_tilt=r(-0.06, 0.14),
        iris=_palette(_IRIS, u[:, next(it)], smooth=False) * r(0.8, 1.2).unsqueeze(1),
        iris_r=r(0.88, 0.98),
        brow_gap=r(0.105, 0.12),
        brow_w=r(0.10, 0.13),
        brow_th=r(0.016, 0.028),
        brow_arch=r(0.01, 0.025),
        brow_col=(hair * (1 - brow_mix) + 0.1 * brow_mix).clamp(0, 1),
        nose_y=r(0.14, 0.19),
        nose_w=r(0.05, 0.07),
        mouth_y=r(0.33, 0.38),
        mouth_w=r(0.15, 0.19),
        lip_up=r(0.03, 0.042),
        lip_lo=r(0.04, 0.055),
        lip_col=(skin * (1 - lip_mix) + blush * lip_mix * skin.mean(1, keepdim=True) * 1.3).clamp(0, 1),
        hair_col=hair.clamp(0, 1),
        hair_style=(u[:, next(it)] * len(HAIR_STYLES)).floor().clamp(max=len(HAIR_STYLES) - 1),
        hairline=r(-0.50, -0.36),
        hair_vol=r(0.03, 0.12),
        hair_len=r(0.5, 1.2),
        light=torch.stack([torch.cos(light_angle), torch.sin(light_angle)], dim=1)
        * r(0.35, 0.7).unsqueeze(1),
        bg_top=bg_base,
        bg_bot=(bg_base * r(0.55, 0.9).unsqueeze(1)).clamp(0, 1),
        cloth=rgb(0.1, 0.85),
        roll=r(-0.12, 0.12),
        squash=r(0.90, 1.0),
        scale=r(0.86, 0.96),
        shift=torch.stack([r(-0.05, 0.05), r(0.0, 0.08)], dim=1),
    )
    return ident
