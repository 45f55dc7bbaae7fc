"""A second AU-rig AU regressor of another architecture, for a judge independent of ``aurig-ref``.

Where :class:`~faceedit_bench.aurig.reference.models.AURegressor` is a plain strided
conv + BatchNorm trunk with a linear head on the flattened 4x4 map, this one uses
GroupNorm, two convolutions per stage, average-pool downsampling and a global
average + max pool head: other inductive biases, trained from another seed, so an
edit (or attack) tuned to one judge has to fool both separately.
"""

from __future__ import annotations

import torch
from torch import nn

from faceedit_bench.api.aus import AU_MAX, N_AUS
from faceedit_bench.aurig.reference.models import to_input


def _stage(cin: int, cout: int, down: bool) -> nn.Sequential:
    layers: list[nn.Module] = [nn.AvgPool2d(2)] if down else []
    for c in (cin, cout):
        layers += [nn.Conv2d(c, cout, 3, 1, 1, bias=False), nn.GroupNorm(8, cout), nn.SiLU(inplace=True)]
    return nn.Sequential(*layers)


class AURegressorGN(nn.Module):
    """Images in [0, 1] -> (N, 17) AU intensities on 0-5 (clipped in eval mode)."""

    def __init__(self, width: int = 24) -> None:
        super().__init__()
        w = width
        self.net = nn.Sequential(
            _stage(3, w, False),  # 64: one-pixel lid cues need full resolution
            _stage(w, 2 * w, True),  # 32
            _stage(2 * w, 3 * w, True),  # 16
            _stage(3 * w, 4 * w, True),  # 8
            _stage(4 * w, 4 * w, True),  # 4
        )
        self.head = nn.Linear(8 * w + 4 * w * 16, N_AUS)

    def raw(self, images: torch.Tensor) -> torch.Tensor:
        """Unclipped intensities (what training fits)."""
        f = self.net((to_input(images) - 0.5) * 4)
        pooled = torch.cat([f.mean(dim=(2, 3)), f.amax(dim=(2, 3)), f.flatten(1)], dim=1)
        return self.head(pooled) * AU_MAX

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        out = self.raw(images)
        return out if self.training else out.clamp(0, AU_MAX)
