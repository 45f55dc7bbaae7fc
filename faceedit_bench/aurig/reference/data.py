"""Training pool and evaluation sets for the AU-rig reference networks.

The pool is rendered from the ``reference`` split only (identities never seen by
editors or by the val/test evaluation): half of the AU vectors follow the
realistic expression distribution, three in eight switch AUs on independently so
the regressor cannot lean on co-occurrence, and one in eight are *lid mixtures*:
AU45 on together with AU05 and/or AU07, which move the same upper lid in opposite
directions. Those mixtures are rare in the realistic distribution and were the
regressor's worst case (AU45 under-read by about 1.8 when AU05 is also on).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from faceedit_bench.api.aus import AU_MAX, au_index
from faceedit_bench.aurig.expressions import sample_aus, sample_independent_aus
from faceedit_bench.aurig.identity import sample_identities
from faceedit_bench.aurig.render import render
from faceedit_bench.aurig.rng import identity_keys, mix, split_code, uniforms

STREAM_POOL_REAL = 11
STREAM_POOL_INDEP = 12
STREAM_POOL_LIDS = 13
LID_MIX_EVERY = 8  # one pool sample in 8 is a lid mixture


def lid_mixtures(keys: np.ndarray, base: torch.Tensor) -> torch.Tensor:
    """``base`` AUs with AU45 in U(0.5, 5) plus AU05 (p 0.6) and AU07 (p 0.4) at U(0, 5)."""
    u = torch.from_numpy(uniforms(keys, 5, STREAM_POOL_LIDS)).float()
    aus = base.clone()
    aus[:, au_index("AU45")] = 0.5 + (AU_MAX - 0.5) * u[:, 0]
    aus[:, au_index("AU05")] = (u[:, 1] < 0.6) * u[:, 2] * AU_MAX
    aus[:, au_index("AU07")] = (u[:, 3] < 0.4) * u[:, 4] * AU_MAX
    return aus


@dataclass
class Pool:
    images: torch.Tensor  # (N, 3, 64, 64) uint8
    aus: torch.Tensor  # (N, 17) 0-5
    labels: torch.Tensor  # (N,) identity class 0..n_ids-1

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def batch(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.images[idx].float() / 255, self.aus[idx], self.labels[idx]


def render_pool(
    n_ids: int, per_id: int, seed: int, p_on: float = 0.3, res: int = 64, chunk: int = 256
) -> Pool:
    """``n_ids`` reference identities x ``per_id`` random expressions each."""
    ids = np.repeat(np.arange(n_ids), per_id)
    keys = mix(split_code("reference"), seed, np.arange(len(ids)))
    index = torch.from_numpy(np.arange(len(ids))).unsqueeze(1)
    real = sample_aus(keys, STREAM_POOL_REAL)
    indep = sample_independent_aus(keys, STREAM_POOL_INDEP, p_on)
    aus = torch.where(index % 2 == 0, real, indep)
    aus = torch.where(index % LID_MIX_EVERY == LID_MIX_EVERY - 1, lid_mixtures(keys, indep), aus)
    images = torch.empty(len(ids), 3, res, res, dtype=torch.uint8)
    for s in range(0, len(ids), chunk):
        sl = slice(s, s + chunk)
        ident = sample_identities(identity_keys("reference", seed, ids[sl]))
        images[sl] = (render(ident, aus[sl], res).images * 255 + 0.5).to(torch.uint8)
    return Pool(images, aus, torch.from_numpy(ids))


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Mild corruptions like an editor's output: shift, blur, low resolution, noise, gain."""
    n = x.shape[0]
    dx, dy = (int(v) for v in torch.randint(-1, 2, (2,), generator=gen))
    x = torch.roll(x, shifts=(dy, dx), dims=(2, 3))
    blur = F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
    a = 0.6 * torch.rand(n, 1, 1, 1, generator=gen) * (torch.rand(n, 1, 1, 1, generator=gen) < 0.3)
    x = x + a * (blur - x)
    low = torch.rand(n, generator=gen) < 0.1
    if bool(low.any()):
        size = x.shape[-1]
        small = F.interpolate(
            x[low], size=(size // 2, size // 2), mode="bilinear", antialias=True, align_corners=False
        )
        x[low] = F.interpolate(small, size=(size, size), mode="bilinear", align_corners=False)
    x = x * (0.95 + 0.1 * torch.rand(n, 1, 1, 1, generator=gen))
    x = x + torch.randn(x.shape, generator=gen) * (0.01 * torch.rand(n, 1, 1, 1, generator=gen))
    return x.clamp(0, 1)
