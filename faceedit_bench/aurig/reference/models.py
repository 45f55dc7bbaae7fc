"""The two reference CNNs (64 px input): AU regressor (17 outputs on 0-5) and identity encoder.

Plain strided conv + BatchNorm + ReLU trunks; the identity head is trained with a
CosFace-style additive-margin softmax (Wang et al., "CosFace", CVPR 2018).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from faceedit_bench.api.aus import AU_MAX, N_AUS

INPUT_SIZE = 64


def _block(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


class Trunk(nn.Module):
    """64x64x3 -> 4x4x``width*4`` features, flattened.

    ``fine_stem`` keeps the first layer at full resolution (about 1.9x the compute):
    the AU regressor needs it for one-pixel cues such as the upper-lid fold that
    tells AU05 from AU45; identity does not.
    """

    def __init__(self, width: int = 32, fine_stem: bool = False) -> None:
        super().__init__()
        w = width
        self.net = nn.Sequential(
            _block(3, w, 1 if fine_stem else 2),  # 64 or 32
            _block(w, 2 * w, 2),  # 32 or 16
            _block(2 * w, 2 * w, 2 if fine_stem else 1),  # 16
            _block(2 * w, 3 * w, 2),  # 8
            _block(3 * w, 4 * w, 2),  # 4
        )
        self.out_features = 4 * w * 16

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - 0.5) * 4).flatten(1)


def to_input(images: torch.Tensor) -> torch.Tensor:
    """Resize (antialiased bilinear) to the fixed 64 px input."""
    if images.shape[-1] == INPUT_SIZE and images.shape[-2] == INPUT_SIZE:
        return images
    return F.interpolate(
        images, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", antialias=True, align_corners=False
    )


class AURegressor(nn.Module):
    """Images in [0, 1] -> (N, 17) AU intensities on 0-5 (clipped in eval mode)."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        self.trunk = Trunk(width, fine_stem=True)
        self.head = nn.Linear(self.trunk.out_features, N_AUS)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        out = self.head(self.trunk(to_input(images))) * AU_MAX
        # linear while training (no dead gradients at 0 or 5); clipped to the scale when judging
        return out if self.training else out.clamp(0, AU_MAX)


class IdentityEncoder(nn.Module):
    """Images in [0, 1] -> (N, dim) L2-normalised embeddings."""

    def __init__(self, width: int = 32, dim: int = 64) -> None:
        super().__init__()
        self.trunk = Trunk(width)
        self.head = nn.Linear(self.trunk.out_features, dim)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.head(self.trunk(to_input(images))), dim=1)


class CosFaceLoss(nn.Module):
    """Additive cosine-margin softmax over ``n_classes`` learned, normalised class centres."""

    def __init__(self, dim: int, n_classes: int, scale: float = 16.0, margin: float = 0.2) -> None:
        super().__init__()
        self.centres = nn.Parameter(torch.randn(n_classes, dim) * 0.1)
        self.scale, self.margin = scale, margin

    def forward(self, emb: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        cos = emb @ F.normalize(self.centres, dim=1).t()
        cos = cos - self.margin * F.one_hot(labels, cos.shape[1])
        return F.cross_entropy(self.scale * cos, labels)
