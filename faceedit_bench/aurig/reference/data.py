"""Training pool and evaluation sets for the AU-rig reference networks.

The pool is rendered from the ``reference`` split only (identities never seen by
editors or by the val/test evaluation): half of the AU vectors follow the
realistic expression distribution, half switch AUs on independently so the
regressor cannot lean on co-occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from faceedit_bench.aurig.expressions import sample_aus, sample_independent_aus
from faceedit_bench.aurig.identity import sample_identities
from faceedit_bench.aurig.render import render
from faceedit_bench.aurig.rng import identity_keys, mix, split_code

STREAM_POOL_REAL = 11
STREAM_POOL_INDEP = 12


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
    real = sample_aus(keys, STREAM_POOL_REAL)
    indep = sample_independent_aus(keys, STREAM_POOL_INDEP, p_on)
    aus = torch.where(torch.from_numpy(np.arange(len(ids)) % 2 == 0).unsqueeze(1), real, indep)
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
