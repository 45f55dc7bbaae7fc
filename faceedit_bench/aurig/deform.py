"""The AU displacement field D_a of AU-rig, and its inversion.

The expressive face shows, at face point ``q``, the canonical face at
``W_a(q) = q - D_a(q)``. ``D_a`` is a sum of per-AU radial-basis (separable
Gaussian) displacements around anatomical anchors of each identity, some cut by a
smooth ``tanh`` step at the mouth line so that the lips can part. It is evaluated
on a fixed face-space grid and read back bilinearly (``grid_sample``), so the same
continuous field is used at every image resolution and for the ground-truth flow.
``W_a`` is inverted by Newton iterations on that grid (the DESIGN's "few
fixed-point iterations"). Amplitudes are kept small enough that ``det(I - grad D)``
stays positive for any AU setting (checked in the tests), so the warp is invertible.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from faceedit_bench.api.aus import AU_MAX, AU_NAMES, au_index
from faceedit_bench.aurig.identity import Identity

# Face-space box the field lives on, and its grid (spacing about 0.06 face units).
BOX_X = (-0.85, 0.85)
BOX_Y = (-0.8, 1.05)
GRID_X = 32
GRID_Y = 35
TAPER = 0.2  # the field fades to exactly zero over this margin inside the box
SUPPORT_TOL = 1e-4  # |D| below this (0.006 px at 128 px) counts as zero when windowing
SPLIT_WIDTH = 0.12  # width of the tanh step at the mouth line
AMPLITUDE = 1.35  # global gain on every anchor vector below
MIN_DET = 0.2  # smallest allowed local area ratio of the warp

NONE, SYM, UPPER, LOWER = 0, 1, 2, 3

Pos = Callable[[Identity], tuple[torch.Tensor, torch.Tensor]]


@dataclass(frozen=True)
class Anchor:
    """One radial-basis displacement: at AU intensity 5 the point ``pos`` moves by ``vec``."""

    au: str
    pos: Pos
    sigma: tuple[float, float]
    vec: tuple[float, float]
    split: int = NONE
    mirror: bool = True  # also place the mirror image (x -> -x) of this anchor


def _brow_inner(i: Identity) -> tuple[torch.Tensor, torch.Tensor]:
    return i.eye_x - 0.7 * i.brow_w, i.eye_y - i.brow_gap


def _brow_outer(i: Identity) -> tuple[torch.Tensor, torch.Tensor]:
    return i.eye_x + 0.6 * i.brow_w, i.eye_y - i.brow_gap - 0.01


def _corner(i: Identity) -> tuple[torch.Tensor, torch.Tensor]:
    return i.mouth_w, i.mouth_y


def _zero(t: torch.Tensor) -> torch.Tensor:
    return torch.zeros_like(t)


# Each AU in its FACS sense (Ekman & Friesen); vectors in face units at intensity 5.
ANCHORS: tuple[Anchor, ...] = (
    Anchor("AU01", _brow_inner, (0.08, 0.11), (0.0, -0.058)),
    Anchor(
        "AU01",
        lambda i: (_zero(i.eye_x), i.eye_y - i.brow_gap - 0.08),
        (0.1, 0.1),
        (0.0, -0.02),
        mirror=False,
    ),
    Anchor("AU02", _brow_outer, (0.08, 0.11), (0.01, -0.058)),
    Anchor("AU04", _brow_inner, (0.09, 0.07), (-0.04, 0.045)),
    Anchor("AU05", lambda i: (i.eye_x, i.eye_y - i.eye_h - 0.03), (0.08, 0.05), (0.0, -0.045)),
    Anchor("AU06", lambda i: (i.eye_x + 0.01, i.eye_y + 0.16), (0.1, 0.08), (0.0, -0.045)),
    Anchor("AU06", lambda i: (i.eye_x + i.eye_w, i.eye_y), (0.06, 0.06), (-0.012, 0.0)),
    Anchor("AU07", lambda i: (i.eye_x, i.eye_y + i.eye_h), (0.07, 0.05), (0.0, -0.025)),
    Anchor("AU09", lambda i: (i.nose_w * 0.7, i.nose_y), (0.06, 0.06), (0.0, -0.04)),
    Anchor("AU09", lambda i: (_zero(i.eye_x), i.eye_y + 0.07), (0.05, 0.07), (0.0, -0.02), mirror=False),
    Anchor("AU09", _brow_inner, (0.06, 0.06), (-0.01, 0.02)),
    Anchor("AU10", lambda i: (0.35 * i.mouth_w, i.mouth_y - 0.02), (0.09, 0.05), (0.0, -0.045), UPPER),
    Anchor("AU12", _corner, (0.07, 0.07), (0.035, -0.05)),
    Anchor("AU14", _corner, (0.05, 0.05), (0.0, -0.015)),
    Anchor("AU15", _corner, (0.07, 0.07), (0.01, 0.045)),
    Anchor(
        "AU17",
        lambda i: (_zero(i.mouth_y), i.mouth_y + 0.1),
        (0.11, 0.08),
        (0.0, -0.06),
        LOWER,
        mirror=False,
    ),
    Anchor("AU20", _corner, (0.1, 0.06), (0.06, 0.016)),
    Anchor(
        "AU23",
        lambda i: (_zero(i.mouth_y), i.mouth_y - 0.03),
        (0.11, 0.045),
        (0.0, 0.024),
        UPPER,
        mirror=False,
    ),
    Anchor(
        "AU23",
        lambda i: (_zero(i.mouth_y), i.mouth_y + 0.035),
        (0.11, 0.045),
        (0.0, -0.024),
        LOWER,
        mirror=False,
    ),
    Anchor("AU23", _corner, (0.06, 0.05), (-0.035, 0.0)),
    Anchor("AU25", lambda i: (_zero(i.mouth_y), i.mouth_y), (0.12, 0.1), (0.0, 0.025), SYM, mirror=False),
    Anchor(
        "AU26", lambda i: (_zero(i.mouth_y), i.mouth_y + 0.25), (0.3, 0.35), (0.0, 0.09), LOWER, mirror=False
    ),
)


def _anchor_tables(ident: Identity, active: set[str]) -> tuple[torch.Tensor, ...]:
    """Stack the active anchors (mirrors included): positions, sigmas, vectors, splits, AU ids."""
    px, py, sig, vec, split, aus = [], [], [], [], [], []
    for a in ANCHORS:
        if a.au not in active:
            continue
        x, y = a.pos(ident)
        for sgn in (1.0, -1.0) if a.mirror else (1.0,):
            px.append(sgn * x)
            py.append(y)
            sig.append(a.sigma)
            vec.append((sgn * a.vec[0] * AMPLITUDE, a.vec[1] * AMPLITUDE))
            split.append(a.split)
            aus.append(au_index(a.au))
    return (
        torch.stack(px, 1),
        torch.stack(py, 1),
        torch.tensor(sig),
        torch.tensor(vec),
        torch.tensor(split),
        torch.tensor(aus),
    )


def _axes() -> tuple[torch.Tensor, torch.Tensor]:
    return torch.linspace(*BOX_X, GRID_X), torch.linspace(*BOX_Y, GRID_Y)


def field_grid(ident: Identity, aus: torch.Tensor) -> torch.Tensor:
    """``(N, 6, GRID_Y, GRID_X)``: D_x, D_y and the four derivatives dDx/dx, dDx/dy, dDy/dx, dDy/dy."""
    n = len(ident)
    gx, gy = _axes()
    if not bool((aus > 0).any()):
        return torch.zeros(n, 6, GRID_Y, GRID_X)
    # every anchor, always: the sum's rounding must not depend on the rest of the batch
    px, py, sig, vec, split, au_ids = _anchor_tables(ident, set(AU_NAMES))
    ex = torch.exp(-0.5 * ((gx.view(1, 1, -1) - px.unsqueeze(2)) / sig[:, 0].view(1, -1, 1)) ** 2)  # (N,K,X)
    ey = torch.exp(-0.5 * ((gy.view(1, 1, -1) - py.unsqueeze(2)) / sig[:, 1].view(1, -1, 1)) ** 2)  # (N,K,Y)
    step = torch.tanh((gy.view(1, -1) - ident.mouth_y.view(-1, 1)) / SPLIT_WIDTH).unsqueeze(1)  # (N,1,Y)
    factor = torch.ones_like(ey)
    factor = torch.where(split.view(1, -1, 1) == SYM, step, factor)
    factor = torch.where(split.view(1, -1, 1) == UPPER, (1 - step) / 2, factor)
    factor = torch.where(split.view(1, -1, 1) == LOWER, (1 + step) / 2, factor)
    wy = ey * factor * (aus[:, au_ids] / AU_MAX).unsqueeze(2)  # (N,K,Y)
    tx, ty = _taper(gx, BOX_X), _taper(gy, BOX_Y)
    ex = ex * tx.view(1, 1, -1)
    wy = wy * ty.view(1, 1, -1)
    dx = torch.einsum("nky,nkx->nyx", wy * vec[:, 0].view(1, -1, 1), ex)
    dy = torch.einsum("nky,nkx->nyx", wy * vec[:, 1].view(1, -1, 1), ex)
    spacing_x = (BOX_X[1] - BOX_X[0]) / (GRID_X - 1)
    spacing_y = (BOX_Y[1] - BOX_Y[0]) / (GRID_Y - 1)
    dxy, dxx = torch.gradient(dx, spacing=(spacing_y, spacing_x), dim=(1, 2))
    dyy, dyx = torch.gradient(dy, spacing=(spacing_y, spacing_x), dim=(1, 2))
    grid = torch.stack([dx, dy, dxx, dxy, dyx, dyy], 1)
    return grid * _fold_guard(grid).view(-1, 1, 1, 1)


def _taper(t: torch.Tensor, box: tuple[float, float]) -> torch.Tensor:
    """1 inside the box, smoothstep to 0 over ``TAPER`` at both ends (so D is compactly supported)."""
    e = (torch.minimum(t - box[0], box[1] - t) / TAPER).clamp(0, 1)
    return e * e * (3 - 2 * e)


def support_box(grid: torch.Tensor) -> tuple[float, float, float, float] | None:
    """Face-space box (x0, x1, y0, y1) outside which ``|D| < SUPPORT_TOL`` for the whole batch."""
    on = grid[:, :2].abs().amax(dim=(0, 1)) > SUPPORT_TOL  # (Y, X)
    if not bool(on.any()):
        return None
    gx, gy = _axes()
    cols, rows = on.any(0).nonzero()[:, 0], on.any(1).nonzero()[:, 0]
    hx, hy = gx[1] - gx[0], gy[1] - gy[0]
    return (
        float(gx[cols.min()] - hx),
        float(gx[cols.max()] + hx),
        float(gy[rows.min()] - hy),
        float(gy[rows.max()] + hy),
    )


def _fold_guard(grid: torch.Tensor) -> torch.Tensor:
    """Per-sample gain <= 1 keeping ``det(I - gain * grad D) >= MIN_DET`` on the grid.

    Only extreme AU combinations (e.g. every AU at 5) need a gain below 1; the
    realistic expression distribution never does (see tests).
    """
    a, b, c, d = grid[:, 2], grid[:, 3], grid[:, 4], grid[:, 5]
    if bool(((1 - a) * (1 - d) - b * c).amin() >= MIN_DET):
        return torch.ones(grid.shape[0])
    gains = torch.linspace(1.0, 0.2, 17).view(-1, 1, 1, 1)
    det = 1 - gains * (a + d) + gains**2 * (a * d - b * c)
    ok = det.flatten(2).amin(2) >= MIN_DET  # (G, N)
    first = torch.where(
        ok.any(0), ok.float().argmax(0), torch.full_like(ok[0], len(gains) - 1, dtype=torch.long)
    )
    return gains.view(-1)[first]


_BOX_LO = torch.tensor([BOX_X[0], BOX_Y[0]])
_BOX_SCALE = torch.tensor([2 / (BOX_X[1] - BOX_X[0]), 2 / (BOX_Y[1] - BOX_Y[0])])


def sample_field(grid: torch.Tensor, q: torch.Tensor, channels: int = 2) -> torch.Tensor:
    """Read the first ``channels`` of ``grid`` at face points ``q`` (N, H, W, 2) -> (N, C, H, W)."""
    g = (q - _BOX_LO).mul_(_BOX_SCALE).sub_(1)  # face coords -> grid_sample's [-1, 1] on the box
    return F.grid_sample(grid[:, :channels], g, mode="bilinear", padding_mode="zeros", align_corners=True)


def warp_to_canonical(grid: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """``W(q) = q - D(q)``: the canonical point shown at face point ``q``."""
    d = sample_field(grid, q, 2)
    return q - d.permute(0, 2, 3, 1)


def invert_warp(
    grid: torch.Tensor, c: torch.Tensor, iters: int = 3
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Solve ``q - D(q) = c`` by Newton steps; returns ``(q, residual norm, det(I - grad D)(q))``."""
    q = c + sample_field(grid, c, 2).permute(0, 2, 3, 1)
    for _ in range(iters):
        f = sample_field(grid, q, 6)
        rx = c[..., 0] - q[..., 0] + f[:, 0]
        ry = c[..., 1] - q[..., 1] + f[:, 1]
        a, b, cc, d = 1 - f[:, 2], -f[:, 3], -f[:, 4], 1 - f[:, 5]
        det = a * d - b * cc
        q = q + torch.stack([(d * rx - b * ry) / det, (a * ry - cc * rx) / det], -1)
    f = sample_field(grid, q, 6)
    res = torch.hypot(c[..., 0] - q[..., 0] + f[:, 0], c[..., 1] - q[..., 1] + f[:, 1])
    det = (1 - f[:, 2]) * (1 - f[:, 5]) - f[:, 3] * f[:, 4]
    return q, res, det


def jacobian_det(grid: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """``det(I - grad D)(q)``: local area ratio of canonical to expressive face."""
    f = sample_field(grid, q, 6)
    return (1 - f[:, 2]) * (1 - f[:, 5]) - f[:, 3] * f[:, 4]
