"""``train(config) -> run dir``: the one trainer every editor (two-stage family, GANimation) uses.

The loop only ever sees :class:`FaceDataset` image batches (images + AUs): no ground
truth flow, target image or texture mask. It writes ``metrics.jsonl`` (losses,
validation), a resumable ``checkpoint.pt`` (atomic), ``config.json`` and, at the end,
``summary.json``. A resumed run continues from the checkpoint's step with the
saved optimiser and RNG states, so it equals an uninterrupted run. ``--init`` starts
a fine-tuning run from another checkpoint's weights (fresh optimisers, step 0).
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Any

import torch

from faceedit_bench.api.dataset import FaceDataset
from faceedit_bench.config import ConfigError, config_to_json
from faceedit_bench.data.memory_cache import MemoryCachedDataset
from faceedit_bench.editors.generator import build_generator
from faceedit_bench.editors.supervision import regime_of_config
from faceedit_bench.editors.trained import init_regime, resolve_device
from faceedit_bench.io import append_jsonl, read_jsonl, sha256_file, write_json_atomic, write_text_atomic
from faceedit_bench.training.checkpoint import (
    apply_init,
    check_resume,
    code_version,
    load_checkpoint,
    load_init,
    save_checkpoint,
)
from faceedit_bench.training.config import TrainConfig
from faceedit_bench.training.critic import Critic
from faceedit_bench.training.distributed import (
    DistEnv,
    broadcast_int,
    broadcast_module,
    device_for,
    init_distributed,
    shutdown,
)
from faceedit_bench.training.loggers import NullLogger, make_logger
from faceedit_bench.training.motion_pretrain import trainable_generator_parameters
from faceedit_bench.training.pretrain_files import load_critic_init, load_motion_init, split_dataset
from faceedit_bench.training.steps import (
    StepContext,
    critic_step,
    critic_warmup_step,
    draw_batch,
    generator_step,
)
from faceedit_bench.training.validate import Validator, load_detector

CALIBRATION_STEPS = 20  # steps timed before a --time-budget-min run plans its length


def lr_factor(step: int, planned: int, decay_fraction: float) -> float:
    """1 until the last ``decay_fraction`` of ``planned`` steps, then linearly to 0."""
    decay_steps = planned * decay_fraction
    if decay_steps <= 0:
        return 1.0
    return max(0.0, min(1.0, (planned - step) / decay_steps))


def build_dataset(config: TrainConfig, split: str) -> FaceDataset:
    """The dataset ``--dataset-args`` describe (typed by its constructor); ``--strict``: no skipped image."""
    dataset = split_dataset(config.dataset, config.dataset_args, split, config.resolution)
    skipped = getattr(dataset, "n_skipped", 0)
    if config.strict and skipped:
        raise ConfigError(f"--strict: {dataset.skipped_summary()}")  # type: ignore[attr-defined]
    return dataset


def _val_dataset(config: TrainConfig, train_set: FaceDataset) -> FaceDataset:
    try:
        return build_dataset(config, "val")
    except Exception:  # a dataset without a val split validates on its training images
        return train_set


class _Run:
    """State of one training run (nets, optimisers, RNG, counters)."""

    def __init__(self, config: TrainConfig, env: DistEnv, device: torch.device) -> None:
        self.config, self.env, self.device = config, env, device
        self.torch_threads = torch.get_num_threads()  # recorded: --resume must run on the same count
        self.spec = config.editor_spec()
        torch.manual_seed(config.seed)
        self.generator = build_generator(self.spec).to(device)
        self.critic = Critic(config.resolution, config.critic_channels, config.critic_max_channels).to(device)
        self.init_record = None  # --init: fine-tune from another run's or a shipped editor's weights
        if config.critic_init is not None:  # the recipe's pre-trained AU head (critic_pretrain)
            self.critic.load_state_dict(
                load_critic_init(
                    config.critic_init, config.resolution, config.critic_channels, config.critic_max_channels
                )
            )
        if config.init is not None:
            init = load_init(config.init, config.editor, self.spec, config.resolution)
            self.init_record = apply_init(config.init, init, self.generator, self.critic, config.critic_init)
        self.motion_record = None
        # after --init: a motion step pre-trained on this run's data replaces the one --init brought
        if config.motion_init is not None:
            self.generator.motion.load_state_dict(
                load_motion_init(config.motion_init, self.spec, config.resolution)
            )
            self.motion_record = {"path": str(config.motion_init), "sha256": sha256_file(config.motion_init)}
        # paired or unpaired: which training signals this run has (editors/supervision.py)
        self.supervision = regime_of_config(
            {**config_to_json(config), "init": self.init_record, "motion_init": self.motion_record},
            init_regime,
        )
        if config.channels_last:
            self.generator.to(memory_format=torch.channels_last)
            self.critic.to(memory_format=torch.channels_last)
        broadcast_module(self.generator, env)
        broadcast_module(self.critic, env)
        betas = (config.beta1, config.beta2)
        trainable = trainable_generator_parameters(self.generator, config.freeze_motion)
        self.opt_g = torch.optim.Adam(trainable, lr=config.lr_g, betas=betas)
        self.opt_d = torch.optim.Adam(self.critic.parameters(), lr=config.lr_d, betas=betas)
        self.rng = torch.Generator().manual_seed(config.seed)
        self.step, self.planned, self.calibrated, self.elapsed = (
            0,
            config.steps,
            config.time_budget_min is None,
            0.0,
        )
        self.final_metrics: dict[str, float] = {}
        self.code_version = code_version()  # of the code that starts (or resumes) the run

    def state(self) -> dict[str, Any]:
        return {
            "editor": self.config.editor,
            "spec": self.spec.to_json(),
            "resolution": self.config.resolution,
            "config": config_to_json(self.config),
            "step": self.step,
            "seed": self.config.seed,
            "code_version": self.code_version,
            "torch_threads": self.torch_threads,
            "supervision": self.supervision,
            "planned_steps": self.planned,
            "calibrated": self.calibrated,
            "elapsed_s": self.elapsed,
            "final_metrics": self.final_metrics,
            "generator": self.generator.state_dict(),
            "critic": self.critic.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "rng": self.rng.get_state(),
            "torch_rng": torch.get_rng_state(),
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.generator.load_state_dict(state["generator"])
        self.critic.load_state_dict(state["critic"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.rng.set_state(state["rng"])
        torch.set_rng_state(state["torch_rng"])
        self.step, self.planned = int(state["step"]), int(state["planned_steps"])
        self.calibrated, self.elapsed = bool(state["calibrated"]), float(state["elapsed_s"])
        self.final_metrics = dict(state.get("final_metrics") or {})

    def set_lr(self) -> dict[str, float]:
        f = lr_factor(self.step, self.planned, self.config.lr_decay_fraction)
        for opt, base in ((self.opt_g, self.config.lr_g), (self.opt_d, self.config.lr_d)):
            for group in opt.param_groups:
                group["lr"] = base * f
        return {"lr_g": self.config.lr_g * f, "lr_d": self.config.lr_d * f}


def _prepare_run_dir(config: TrainConfig, run: _Run, env: DistEnv, record: dict[str, Any]) -> Path:
    """Check or create the run folder; ``record`` goes into a new run's config.json."""
    out = config.run_dir
    ckpt = out / "checkpoint.pt"
    if config.resume and not ckpt.exists():
        raise ConfigError(
            f"--resume: there is no checkpoint to resume at {ckpt}; drop --resume to start a new run"
        )
    if config.resume:
        saved = load_checkpoint(ckpt)
        check_resume(ckpt, saved, config_to_json(config), run.torch_threads)
        run.restore(saved)
        if env.is_main and (out / "metrics.jsonl").exists():  # drop lines written after the checkpoint
            kept = [r for r in read_jsonl(out / "metrics.jsonl") if r.get("step", 0) <= run.step]
            import json

            write_text_atomic(out / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in kept))
    elif ckpt.exists():
        raise ValueError(f"{out} already holds a run; pass --resume to continue it or choose another --out")
    elif env.is_main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.jsonl").unlink(missing_ok=True)
    if env.is_main and not (config.resume and (out / "config.json").exists()):  # keep the start's record
        write_json_atomic(
            out / "config.json",
            {
                **config_to_json(config),
                "spec": run.spec.to_json(),
                "argv": sys.argv,
                "init": run.init_record,
                "motion_init": run.motion_record,
                "torch_threads": run.torch_threads,
                "supervision": run.supervision,
                **record,
            },
        )
    return out


def train(
    config: TrainConfig, dataset: FaceDataset | None = None, val_dataset: FaceDataset | None = None
) -> Path:
    """Train ``config.editor`` on ``config.dataset`` (or the given dataset); returns the run folder."""
    if config.threads:
        torch.set_num_threads(config.threads)
    device = resolve_device(config.device)
    env = init_distributed(device)
    device = device_for(env, device)
    if config.batch_size % env.world_size:
        raise ValueError(f"--batch-size {config.batch_size} must be divisible by the {env.world_size} ranks")
    given = dataset is not None
    dataset = dataset if dataset is not None else build_dataset(config, "train")
    run = _Run(config, env, device)
    notes = list(getattr(config, "recipe_notes", []))
    if env.is_main:
        for note in notes:
            print(f"note: {note}")
    record = {"recipe_notes": notes, "skipped_images": skipped_images(dataset)}
    out = _prepare_run_dir(config, run, env, record)
    train_set = MemoryCachedDataset(dataset) if config.cache_images else dataset
    ctx = StepContext(
        run.spec, config.batch_size, env, device, config.amp, config.channels_last, config.resolution,
        config.critic_au_aug,
    )  # fmt: skip
    validator = None
    if env.is_main:
        vset = val_dataset or (dataset if given else _val_dataset(config, dataset))
        validator = Validator(
            vset,
            config.val_size,
            config.resolution,
            load_detector(config.au_detector, config.dataset if not given else ""),
        )
    try:
        _loop(run, train_set, ctx, validator, out, record)
    finally:
        shutdown(env)
    if env.is_main:
        print(next_steps(config, out))
    return out


def skipped_images(dataset: FaceDataset) -> dict[str, Any]:
    """The training images the dataset skipped (count and, where it lists them, each one with its reason)."""
    skipped = _declared(dataset, "skipped")
    if isinstance(skipped, dict):  # image-folder: {"no_face": [...], "unreadable": [...]}
        listed = {str(kind): [str(m) for m in items] for kind, items in skipped.items()}
        return {"count": sum(len(v) for v in listed.values()), **listed}
    count = _declared(dataset, "n_skipped")
    count = skipped if count is None else count  # video: frames without a face (a count)
    return {"count": int(count) if isinstance(count, int) else 0}


def _declared(obj: object, name: str) -> object:
    """``obj.name`` when the instance or its class defines it (never through ``__getattr__``), else None."""
    if name in getattr(obj, "__dict__", {}):
        return obj.__dict__[name]
    return getattr(obj, name) if hasattr(type(obj), name) else None


def evaluate_command(config: TrainConfig, checkpoint: Path) -> tuple[str, str]:
    """``faceedit-bench evaluate`` and ``compare`` commands that score ``checkpoint``."""
    from faceedit_bench import plugins

    where = ""
    try:
        trained_on = plugins.datasets.canonical(config.dataset)
    except Exception:  # an unknown name: compare it as given
        trained_on = config.dataset
    for name in plugins.protocols.names():
        try:
            protocol = plugins.protocols.get(name)
        except Exception:  # a broken third-party protocol must not hide the message
            continue
        dataset = getattr(protocol, "dataset", None)
        if (
            dataset in (trained_on, config.dataset)
            and getattr(protocol, "resolution", None) == config.resolution
        ):
            where = f"--protocol {name}"
            break
    if not where:
        args = {**config.dataset_args, "resolution": config.dataset_args.get("resolution", config.resolution)}
        where = f"--dataset {config.dataset} --dataset-args " + " ".join(f"{k}={v}" for k, v in args.items())
    editor = config.editor
    return (
        f"faceedit-bench evaluate --editor {editor} --checkpoint {checkpoint} {where}",
        f"faceedit-bench compare --editors identity {editor} --checkpoint {editor}={checkpoint} {where}",
    )


def next_steps(config: TrainConfig, out: Path) -> str:
    """What the run wrote and the commands that evaluate it (printed at the end of ``train``)."""
    ckpt = out / "checkpoint.pt"
    evaluate, compare = evaluate_command(config, ckpt)
    return (
        f"checkpoint written: {ckpt} (continue training with --out {out} --resume)\n"
        f"evaluate it:  {evaluate}\n"
        f"or beside the other editors:  {compare}"
    )


def _loop(
    run: _Run,
    dataset: FaceDataset,
    ctx: StepContext,
    validator: Validator | None,
    out: Path,
    run_record: dict[str, Any] | None = None,
) -> None:
    config, env = run.config, run.env
    bar = None
    if env.is_main and config.progress:
        from tqdm import tqdm

        bar = tqdm(total=run.planned, initial=run.step, desc=f"train {config.editor}", mininterval=2.0)
    hparams = config_to_json(config)  # TensorBoard/MLflow beside metrics.jsonl (the source of truth)
    log = make_logger(config.logger, out, hparams, run.step) if env.is_main else NullLogger()
    t0, g_logs = time.perf_counter() - run.elapsed, {}
    timed: tuple[int, float] | None = None  # (step, elapsed) when calibration timing began
    while run.step < run.planned:
        lrs = run.set_lr()
        batch = draw_batch(dataset, run.rng, config.batch_size, config.au_noise, ctx)
        fake = None
        gan_step = run.step - config.critic_warmup_steps  # < 0 while the critic's AU head warms up
        if timed is None and gan_step >= 0:
            timed = (run.step, time.perf_counter() - t0)
        if gan_step < 0:
            d_logs = critic_warmup_step(run.critic, run.opt_d, batch, ctx)
        else:
            if (gan_step + 1) % config.g_every == 0:  # as in GANimation: G first, D reuses its edits
                g_logs, fake = generator_step(run.generator, run.critic, run.opt_g, batch, ctx)
            d_logs = critic_step(run.generator, run.critic, run.opt_d, batch, ctx, fake)
        run.step += 1
        run.elapsed = time.perf_counter() - t0
        if not run.calibrated and timed is not None and run.step - timed[0] >= CALIBRATION_STEPS:
            # time only full (generator + critic) steps: warm-up steps are cheaper
            per_step = (run.elapsed - timed[1]) / (run.step - timed[0])
            budget = config.time_budget_min * 60  # type: ignore[operator]
            more = math.floor((budget - run.elapsed) / per_step)
            run.planned = broadcast_int(max(run.step + 1, min(config.steps, run.step + more)), env)
            run.calibrated = True
            if bar is not None:
                bar.total = run.planned
        if config.time_budget_min is not None and broadcast_int(
            int(run.elapsed > config.time_budget_min * 66), env
        ):
            run.planned = run.step  # 10% over budget: stop here (lr decay cut short)
        record = {k: float(v) for k, v in {**d_logs, **g_logs}.items()}
        if env.is_main and (run.step % config.log_every == 0 or run.step == run.planned):
            append_jsonl(
                out / "metrics.jsonl",
                {"kind": "train", "step": run.step, "time_s": round(run.elapsed, 2), **lrs, **record},
            )
            log.scalars(run.step, "train", {**lrs, **record})
        done = run.step >= run.planned
        if validator is not None and ((config.val_every and run.step % config.val_every == 0) or done):
            metrics = validator.run(run.generator, run.critic, ctx.device)
            append_jsonl(
                out / "metrics.jsonl",
                {"kind": "val", "step": run.step, "time_s": round(run.elapsed, 2), **metrics},
            )
            validator.save_png(out / "samples" / f"step_{run.step:06d}.png")
            log.scalars(run.step, "val", metrics)
            log.image(run.step, "val/samples", out / "samples" / f"step_{run.step:06d}.png")
            run.final_metrics = {**record, **metrics}
        if env.is_main and (run.step % config.ckpt_every == 0 or done):
            save_checkpoint(out / "checkpoint.pt", run.state())
        if bar is not None:
            bar.update(1)
            bar.set_postfix(
                {k.split("/")[-1] + k[0]: f"{v:.3g}" for k, v in record.items() if "total" in k or "au" in k}
            )
    if bar is not None:
        bar.close()
    log.close(hparams, run.final_metrics)
    if env.is_main:
        write_json_atomic(out / "summary.json", {
            "editor": config.editor, "steps": run.step, "wall_time_s": round(run.elapsed, 1),
            "seed": config.seed, "code_version": run.code_version, "final_metrics": run.final_metrics,
            "checkpoint": str(out / "checkpoint.pt"), "torch_threads": run.torch_threads,
            "evaluate": evaluate_command(config, out / "checkpoint.pt")[0], **(run_record or {}),
        })  # fmt: skip
