"""Pre-train the two-stage motion step on same-person pairs (the ``cpu-64`` recipe's motion warm-up).

    python -m faceedit_bench.training.motion_pretrain --dataset aurig --resolution 64 \\
        --steps 30000 --threads 2 --out faceedit_bench/assets/motions/aurig-64.pt

Why (measured, README "Training recipes"): trained end to end, the motion step of the
two-stage editor (Athar et al., FG 2020) gets its only geometric signal through the
critic and moved the wrong pixels (flow EPE 0.16 on aurig-demo, zero flow 0.095). Smooth
skin moves without changing colour, so a warp's effect shows only at edges and must be
learned across identities, slowly: ~20,000 steps even under the strongest photometric
signal there is (``bench/probe_flow_supervision.py``). This trains the motion step
alone, once, to warp a training image onto another image of the same person showing
the target AUs (L1 on the warp, the trainer's ``lambda_pair`` with ``pair_on="warp"``),
with flow TV and magnitude penalties; ``train --motion-init`` then starts the two-stage
editor from it. It is ours, not the paper's (which learns the warp end to end, without
pairs), and it uses no flow labels. Only the editors' own training split is used for
training; the val split's pairs (true flow known on AU-rig) are scored for the record.
The file holds tensors and plain values only (``weights_only``).
"""

from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from faceedit_bench.config import ConfigError, config_to_json, option, require_positive
from faceedit_bench.data.images import at_resolution
from faceedit_bench.data.memory_cache import MemoryCachedDataset
from faceedit_bench.io import torch_save_atomic
from faceedit_bench.training import pretrain_files as files
from faceedit_bench.training.config import TrainConfig
from faceedit_bench.training.pretrain_files import MOTION_FIELDS, MOTION_FORMAT

DEFAULT_FLOW_TV = 10.0  # for an editor with flow TV; 0 for one without (two-stage-no-tv)
# spec fields that decide what the motion net computes: a --motion-init file must match the run's


@dataclass
class MotionPretrainConfig:
    """Options of one motion-step pre-training run."""

    out: Path = option(help="output file (motion weights + record); a partial run resumes from OUT.partial")
    editor: str = option("two-stage", help="registered editor with a motion step whose spec is used")
    recipe: str = option("cpu-64", help="training recipe whose generator sizes and flow are used")
    dataset: str = option("aurig", help="registered FaceDataset with same-person partners (train split)")
    dataset_args: dict[str, Any] = option({}, help="dataset constructor arguments")
    resolution: int = option(64, help="image size in pixels")
    channels: int | None = option(None, help="override the recipe's generator base channels (as train)")
    motion_res_blocks: int | None = option(
        None, help="override the editor's motion residual blocks (as train)"
    )
    steps: int = option(30000, help="optimiser steps (the shipped aurig-64 file: 30,000)")
    batch_size: int = option(16, help="source images per step (each with one same-person partner)")
    lr: float = option(2e-4, help="Adam learning rate, betas (0.5, 0.999); linear decay over the last third")
    pair_weight: float = option(10000.0, help="weight of the warp's L1 to the same-person partner")
    flow_tv: float | None = option(
        None,
        help="weight of the flow's L1 total variation (pixels); default 10, or 0 for an editor "
        "without flow TV (two-stage-no-tv)",
    )
    flow_mag: float = option(5.0, help="weight of the mean flow magnitude (pixels)")
    seed: int = option(0, help="seed of the weights and batches")
    threads: int | None = option(None, help="torch intra-op threads")
    val_pairs: int = option(200, help="val-split pairs scored by flow EPE where the data knows it (0: none)")
    ckpt_every: int = option(1000, help="score the val pairs and write OUT.partial every this many steps")
    cache_images: bool = option(
        True, help="keep drawn training images in memory (each rendered once; same numbers)"
    )
    amp: bool = option(
        True,
        help="bfloat16 autocast of the motion net's convolutions where the CPU has it (warp, loss fp32; runs on the CPU)",
    )

    def validate(self) -> None:
        require_positive(self, "resolution", "steps", "batch_size", "lr", "ckpt_every")
        if self.val_pairs < 0:
            raise ConfigError("option 'val_pairs' must be >= 0")
        if min(self.pair_weight, self.flow_tv or 0.0, self.flow_mag) < 0:
            raise ConfigError("options 'pair_weight', 'flow_tv' and 'flow_mag' must be >= 0")


def motion_spec(config: MotionPretrainConfig):  # -> EditorSpec
    """The spec a ``train --editor E --recipe R`` run builds, with the pair loss on the warp.

    Fills ``config.flow_tv`` when unset: 10, or 0 when the editor has no flow TV.
    """
    sizes = {
        k: getattr(config, k) for k in ("channels", "motion_res_blocks") if getattr(config, k) is not None
    }
    train = TrainConfig(editor=config.editor, recipe=config.recipe, resolution=config.resolution, **sizes)
    spec = train.editor_spec()
    if not spec.use_motion or spec.generator != "two-stage":
        raise ConfigError(f"option 'editor': {config.editor!r} has no motion step to pre-train")
    if config.flow_tv is None:  # the editor's regulariser on or off, at the pre-training's weight
        config.flow_tv = DEFAULT_FLOW_TV if train.has_flow_tv() else 0.0
    return spec.with_overrides(use_texture=False, lambda_pair=config.pair_weight, pair_on="warp")


def _dataset(config: MotionPretrainConfig, split: str):
    return files.split_dataset(config.dataset, config.dataset_args, split, config.resolution)


def _val_pairs(config: MotionPretrainConfig):
    """Val-split edit requests with true flow (AU-rig), or None (``--val-pairs 0``, or no flow known)."""
    if config.val_pairs == 0:
        return None
    batch = (
        _dataset(config, "val").make_pairs(config.val_pairs, seed=config.seed).batch(range(config.val_pairs))
    )
    return batch if getattr(batch, "flow", None) is not None else None


@torch.no_grad()
def flow_epe(motion: torch.nn.Module | None, pairs) -> dict[str, float]:
    """Mean flow EPE (pixels) of ``motion`` (None: zero flow) on ``pairs``: all, inside and outside the texture mask."""
    from faceedit_bench.editors.layers import au_condition
    from faceedit_bench.editors.warp import identity_grid
    from faceedit_bench.metrics.functional.flow import epe_regions

    n, _, h, w = pairs.source.shape
    grid = (
        identity_grid(n, h, w)
        if motion is None
        else motion(pairs.source * 2 - 1, au_condition(pairs.target_aus))
    )
    regions = epe_regions(grid, pairs.flow, pairs.texture_mask)
    return {k: round(float(v.mean()), 4) for k, v in regions.items()}


def _autocast(enabled: bool) -> contextlib.AbstractContextManager:
    from faceedit_bench.editors.trained import cpu_has_bf16

    return (
        torch.autocast("cpu", dtype=torch.bfloat16)
        if enabled and cpu_has_bf16()
        else contextlib.nullcontext()
    )


def motion_step_loss(
    motion: torch.nn.Module,
    spec: Any,
    source: torch.Tensor,
    partner: torch.Tensor,
    partner_aus: torch.Tensor,
    flow_tv: float,
    flow_mag: float,
    amp: bool = False,
) -> torch.Tensor:
    """Paired warp L1 (the trainer's ``pair_loss``) + flow TV + flow magnitude for one batch.

    Only the net runs under bfloat16 autocast: the grid comes out in fp32 (``MotionNet``),
    and the warp and an L1 of a few thousandths stay in fp32.
    """
    from faceedit_bench.editors.layers import au_condition
    from faceedit_bench.editors.output import GeneratorOutput
    from faceedit_bench.editors.warp import apply_warp
    from faceedit_bench.training import losses
    from faceedit_bench.training.steps import pair_loss

    with _autocast(amp):
        grid = motion(source * 2 - 1, au_condition(partner_aus)).float()
    warped = apply_warp(source, grid)
    photometric = pair_loss(GeneratorOutput(images=warped, grid=grid, warped=warped), partner, spec)
    return photometric + losses.flow_tv_loss(grid) * flow_tv + losses.flow_magnitude_loss(grid) * flow_mag


def pretrain_motion(config: MotionPretrainConfig, log: Any = print) -> dict[str, Any]:
    """Train the motion step on same-person pairs; writes ``config.out``; returns the record."""
    from faceedit_bench.editors.two_stage import TwoStageGenerator

    if config.threads:
        torch.set_num_threads(config.threads)
    spec = motion_spec(config)
    train_set = _dataset(config, "train")
    if config.cache_images:
        train_set = MemoryCachedDataset(train_set)
    try:
        train_set.same_identity_partners([0], torch.Generator())
    except ValueError as err:
        raise ConfigError(f"option 'dataset': {err}") from None
    val = _val_pairs(config)

    torch.manual_seed(config.seed)
    motion = TwoStageGenerator(spec).motion
    opt = torch.optim.Adam(motion.parameters(), lr=config.lr, betas=(0.5, 0.999))
    rng = torch.Generator().manual_seed(config.seed)
    zero = None if val is None else flow_epe(None, val)
    partial = Path(f"{config.out}.partial")
    step, elapsed, curve = files.resume(partial, config_to_json(config), "motion", motion, opt, rng, log)
    t0 = time.perf_counter() - elapsed
    decay_from = config.steps - config.steps // 3
    while step < config.steps:
        frac = max(0, step - decay_from) / max(1, config.steps - decay_from)
        for group in opt.param_groups:
            group["lr"] = config.lr * (1 - frac)
        idx = torch.randint(len(train_set), (config.batch_size,), generator=rng).tolist()
        source = at_resolution(train_set.get_batch(idx).images.float(), config.resolution)
        other = train_set.get_batch(train_set.same_identity_partners(idx, rng))
        partner = at_resolution(other.images.float(), config.resolution)
        loss = motion_step_loss(
            motion, spec, source, partner, other.aus.float(), config.flow_tv, config.flow_mag, config.amp
        )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if step % config.ckpt_every == 0 or step == config.steps:
            elapsed = time.perf_counter() - t0
            row = {"step": step, "time_s": round(elapsed, 1), "loss": round(float(loss.detach()), 5)}
            if val is not None:
                row["val_flow_epe"] = flow_epe(motion, val)
            curve.append(row)
            log(f"step {step}/{config.steps} {elapsed:.0f}s {row}")
            files.save_partial(
                partial, config_to_json(config), "motion", motion, opt, rng, step, elapsed, curve
            )
    record = {
        "format": MOTION_FORMAT,
        "editor": config.editor,
        "resolution": config.resolution,
        "dataset": config.dataset,
        "spec": {k: getattr(spec, k) for k in MOTION_FIELDS},
        "config": config_to_json(config),
        "steps": step,
        "wall_time_s": round(time.perf_counter() - t0, 1),
        "val_flow_epe": curve[-1].get("val_flow_epe"),
        "val_flow_epe_zero_flow": zero,
        "curve": curve,
        "motion": motion.state_dict(),
    }
    torch_save_atomic(record, config.out)
    partial.unlink(missing_ok=True)
    return record


def trainable_generator_parameters(
    generator: torch.nn.Module, freeze_motion: bool
) -> list[torch.nn.Parameter]:
    """The generator's parameters an optimiser gets; ``freeze_motion`` fixes its motion step first."""
    if freeze_motion:
        generator.motion.requires_grad_(False)
    return [p for p in generator.parameters() if p.requires_grad]


def main(argv: list[str] | None = None) -> int:
    return files.cli(
        "motion_pretrain",
        __doc__,
        MotionPretrainConfig,
        lambda config: pretrain_motion(config, log=lambda line: print(line, flush=True)),
        lambda config, record: (
            f"{config.out}: val flow EPE {record['val_flow_epe']} (zero flow: "
            f"{record['val_flow_epe_zero_flow']}) after {record['steps']} steps, {record['wall_time_s']} s"
        ),
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
