"""One editor configuration: generator structure plus the loss weights it trains with.

Every trained editor (the two-stage model, its ablations and the GANimation baseline)
is an :class:`EditorSpec`; ablations are ``dataclasses.replace`` of one base spec.
Loss weights marked "GANimation" are the published defaults of Pumarola et al.
(ECCV 2018); the flow-regulariser weights and network sizes are ours (the FG 2020
paper's values are not available).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EditorSpec:
    """What differs between trained editors (architecture and loss weights)."""

    generator: str = "two-stage"  # "two-stage" or "ganimation" (see build_generator)
    use_motion: bool = True  # motion step: predicted flow + warp
    use_texture: bool = True  # texture step: attention mask + colour
    channels: int = 32  # base channels of each encoder-decoder (ours)
    n_down: int = 2
    mask_bias: float | None = 3.0  # ours: initial mask-logit bias, M ~ 0.95 keeps the warp (None: GANimation)
    stem_norm: bool = False  # GANimation: instance norm after the stem; ours: none (see layers.py)
    res_blocks: int = 3  # residual blocks of the texture / GANimation trunk (ours)
    motion_res_blocks: int = 2  # residual blocks of the motion trunk (ours)
    flow_up_skip: int = 2  # ours: increments predicted at 1/4 resolution, upsampled (smooth warps)
    flow: str = "increments"  # the paper's DAE warper; "displacement" = bounded field (ours, see warp.py)
    texture: str = "colour"  # texture step: GANimation's colour head; "shading" = grey level only (ours)
    upsample: str = "transposed"  # GANimation; "resize" = bilinear x2 + 3x3 conv (ours: no checkerboard)
    lambda_au: float = 4000.0  # GANimation lambda_D_cond, divided by the global batch size
    lambda_cycle: float = 10.0  # GANimation
    lambda_mask: float = 0.1  # GANimation: mean(M), M = 1 keeps the (warped) input
    lambda_mask_smooth: float = 1e-5  # GANimation: summed TV of M over the batch
    lambda_texture_area: float = 0.0  # ours: mean(1 - M), texture events are small (teeth, furrows)
    lambda_texture_change: float = 0.0  # ours: mean |texture step's change| (paint costs; motion is free)
    lambda_texture_tv: float = 0.0  # ours: L1 TV of the texture step's change (no speckle, smooth shading)
    lambda_texture_chroma: float = 0.0  # ours: mean |change minus its grey level| (hue costs, shading not)
    # ours, off by default: L1 between the edit and another image of the same person that shows
    # the target AUs (paired supervision where the data has it; no flow labels). It applies
    # to every editor's output alike, so a comparison under it stays fair.
    lambda_pair: float = 0.0
    # ours: "warp" puts lambda_pair on the motion step's warp instead (editors without one: output)
    pair_on: str = "output"
    lambda_gp: float = 10.0  # GANimation
    lambda_flow_tv: float = 1.0  # ours: L1 TV of the displacement in pixels
    lambda_flow_bias: float = 0.1  # ours: bias-reduce, squared pixels
    lambda_flow_mag: float = 5.0  # ours: mean |displacement| in pixels (AU motion is small and local)

    def with_overrides(self, **changes: Any) -> EditorSpec:
        """A copy with ``changes`` (unknown names raise ``ValueError``)."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ValueError(
                f"unknown editor spec field(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}"
            )
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EditorSpec:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


TWO_STAGE = EditorSpec()
WARP_ONLY = dataclasses.replace(TWO_STAGE, use_texture=False, lambda_mask=0.0, lambda_mask_smooth=0.0)
TEXTURE_ONLY = dataclasses.replace(
    TWO_STAGE, use_motion=False, lambda_flow_tv=0.0, lambda_flow_bias=0.0, lambda_flow_mag=0.0
)
TWO_STAGE_NO_TV = dataclasses.replace(TWO_STAGE, lambda_flow_tv=0.0)
TWO_STAGE_NO_CYCLE = dataclasses.replace(TWO_STAGE, lambda_cycle=0.0)
TWO_STAGE_NO_MASK = dataclasses.replace(TWO_STAGE, lambda_mask=0.0, lambda_mask_smooth=0.0)
# GANimation's published generator: 64 channels, 2 downsamplings, 6 residual blocks.
GANIMATION = EditorSpec(generator="ganimation", use_motion=False, channels=64, res_blocks=6, motion_res_blocks=0, stem_norm=True, mask_bias=None,
                        lambda_flow_tv=0.0, lambda_flow_bias=0.0, lambda_flow_mag=0.0)  # fmt: skip
