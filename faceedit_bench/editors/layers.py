"""Building blocks shared by every generator: AU tiling and a conv encoder-decoder.

The encoder-decoder follows the generator topology of GANimation (Pumarola et al.,
ECCV 2018): a 7x7 stem, stride-2 4x4 downsamplings, residual blocks at the
bottleneck, transposed-conv upsamplings, instance norm + ReLU throughout. Channel
counts and block counts are parameters; our shipped sizes are ours (see specs).
"""

from __future__ import annotations

import torch
from torch import nn

from faceedit_bench.api.aus import AU_MAX


def au_condition(aus: torch.Tensor) -> torch.Tensor:
    """AUs on the 0-5 scale -> the networks' scale (/5); NaN (unannotated) -> 0."""
    return torch.nan_to_num(aus, nan=0.0) / AU_MAX


def tile_aus(images: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
    """Concatenate ``cond`` (N, A) as constant channels to ``images`` (N, C, H, W)."""
    n, _, h, w = images.shape
    planes = cond.to(images.dtype).view(n, -1, 1, 1).expand(n, cond.shape[1], h, w)
    return torch.cat([images, planes], dim=1)


def _norm(channels: int) -> nn.Module:
    """Affine instance norm, written as GroupNorm with one channel per group.

    Same maths as ``InstanceNorm2d(affine=True)``; GroupNorm has a channels-last CPU
    kernel and is about 1.8x faster under bfloat16 autocast here.
    """
    return nn.GroupNorm(channels, channels, eps=1e-5)


class ResidualBlock(nn.Module):
    """conv3x3-IN-ReLU-conv3x3-IN plus identity."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            _norm(channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            _norm(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


UPSAMPLING = ("transposed", "resize")


def _upsampling(cin: int, cout: int, kind: str) -> list[nn.Module]:
    """A x2 upsampling conv: transposed (GANimation) or resize-then-convolve (no checkerboard)."""
    if kind == "transposed":
        return [nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1, bias=False)]
    if kind == "resize":
        return [
            nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
            nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        ]
    raise ValueError(f"unknown upsampling {kind!r}; known: {', '.join(UPSAMPLING)}")


class EncoderDecoder(nn.Module):
    """Image-to-feature-map trunk: ``(N, in_ch, H, W) -> (N, base, H, W)`` (with all upsamplings).

    ``H`` and ``W`` must be divisible by ``2 ** n_down``. With ``stem_norm`` (GANimation)
    instance norm follows the 7x7 stem, which removes the spatially constant AU channels
    everywhere but near the border; without it (ours) the stem has a bias and the AUs
    shift its activations before the first ReLU.
    """

    def __init__(
        self,
        in_channels: int,
        base: int,
        n_down: int,
        n_res: int,
        stem_norm: bool = True,
        n_up: int | None = None,
        upsample: str = "transposed",
    ) -> None:
        """``n_up`` upsamplings (default ``n_down``): fewer leave the output at a lower resolution.

        ``upsample``: ``"transposed"`` (GANimation: 4x4 stride-2 transposed convs) or
        ``"resize"`` (bilinear x2 then a 3x3 conv; ours: no checkerboard, Odena et al. 2016).
        """
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_channels, base, 7, padding=3, bias=not stem_norm)]
        layers += [_norm(base), nn.ReLU(inplace=True)] if stem_norm else [nn.ReLU(inplace=True)]
        ch = base
        for _ in range(n_down):
            layers += [
                nn.Conv2d(ch, ch * 2, 4, stride=2, padding=1, bias=False),
                _norm(ch * 2),
                nn.ReLU(inplace=True),
            ]
            ch *= 2
        layers += [ResidualBlock(ch) for _ in range(n_res)]
        for _ in range(n_down if n_up is None else n_up):
            layers += [*_upsampling(ch, ch // 2, upsample), _norm(ch // 2), nn.ReLU(inplace=True)]
            ch //= 2
        self.net = nn.Sequential(*layers)
        self.out_channels = ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class MaskColourHead(nn.Module):
    """GANimation's two heads: attention mask (sigmoid) and colour (tanh -> [0, 1])."""

    def __init__(self, channels: int, mask_bias: float | None = None, colour_channels: int = 3) -> None:
        """``mask_bias``: None = GANimation's bias-free mask conv; a value = initial bias
        (ours: positive starts the mask near 1, i.e. near "keep the input").
        ``colour_channels``: 3 (GANimation) or 1 (one grey level, for shading textures)."""
        super().__init__()
        self.colour = nn.Conv2d(channels, colour_channels, 7, padding=3, bias=False)
        self.mask = nn.Conv2d(channels, 1, 7, padding=3, bias=mask_bias is not None)
        if mask_bias is not None:
            nn.init.constant_(self.mask.bias, mask_bias)

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns ``(mask, colour)``: mask in (0, 1) with 1 = keep the input."""
        return torch.sigmoid(self.mask(features)), (torch.tanh(self.colour(features)) + 1) / 2


def compose(mask: torch.Tensor, image: torch.Tensor, colour: torch.Tensor) -> torch.Tensor:
    """GANimation's composition ``M * image + (1 - M) * C``."""
    return mask * image + (1 - mask) * colour
