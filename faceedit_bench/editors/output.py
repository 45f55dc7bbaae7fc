"""What every generator returns: the edited image and, where the architecture has them, its flow and mask."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class GeneratorOutput:
    """What a generator returns for ``(images in [0, 1], AUs on 0-5)``.

    ``grid``: backward sampling grid ``(N, H, W, 2)`` (None without a motion step);
    ``mask``: attention ``(N, 1, H, W)``, 1 = keep the (warped) input (None without a
    texture step); ``warped``: the image after the motion step.
    """

    images: torch.Tensor
    grid: torch.Tensor | None = None
    mask: torch.Tensor | None = None
    warped: torch.Tensor | None = None
