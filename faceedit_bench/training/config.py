"""TrainConfig: every option of ``faceedit-bench train``, validated in one place.

Defaults are GANimation's published training setup (Pumarola et al., ECCV 2018):
Adam lr 1e-4 for both nets with betas (0.5, 0.999), one generator step every 5
critic steps, 128 px, batch 25, linear learning-rate decay to zero over the last
third of training, target AUs = another sample's AUs + U(-0.1, 0.1) on the /5
scale. The step count default is ours (GANimation trains 20 + 10 epochs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faceedit_bench.config import ConfigError, option


@dataclass
class TrainConfig:
    """Options of one training run (CLI flags, YAML keys and library arguments)."""

    editor: str = option(help="registered trained editor to train (e.g. two-stage, ganimation)")
    dataset: str = option("aurig", help="registered FaceDataset to train on")
    dataset_args: dict[str, Any] = option(
        {}, help="dataset constructor arguments, e.g. --dataset-args root=FACES aus=FACES/aus.csv"
    )
    strict: bool = option(False, help="fail if the dataset skips any image (unreadable, no face)")
    resolution: int = option(128, help="training resolution in pixels (GANimation: 128)")
    batch_size: int = option(25, help="global batch size, split over DDP ranks (GANimation: 25)")
    steps: int = option(30000, help="critic steps (one batch each); the generator steps every --g-every")
    time_budget_min: float | None = option(
        None, help="wall-clock budget: after calibration, plan the steps that fit"
    )
    lr_g: float = option(1e-4, help="generator Adam learning rate (GANimation: 1e-4)")
    lr_d: float = option(1e-4, help="critic Adam learning rate (GANimation: 1e-4)")
    beta1: float = option(0.5, help="Adam beta1 (GANimation: 0.5)")
    beta2: float = option(0.999, help="Adam beta2 (GANimation: 0.999)")
    g_every: int = option(5, help="one generator step every this many critic steps (GANimation: 5)")
    lr_decay_fraction: float = option(1 / 3, help="linear lr decay to zero over this final fraction of steps")
    au_noise: float = option(0.1, help="uniform noise added to target AUs on the /5 scale (GANimation: 0.1)")
    channels: int | None = option(None, help="override the editor's generator base channels")
    res_blocks: int | None = option(None, help="override the editor's texture/GANimation residual blocks")
    motion_res_blocks: int | None = option(None, help="override the editor's motion residual blocks")
    loss_weights: dict[str, float] = option({}, help="override loss weights, e.g. --loss-weights lambda_tv=0")
    critic_channels: int = option(64, help="critic base channels (GANimation: 64)")
    critic_max_channels: int = option(2048, help="critic channel cap (GANimation: 2048)")
    seed: int = option(0, help="seed of weights, batches, target AUs and penalties")
    out: Path | None = option(None, help="run folder (default runs/<editor>)")
    resume: bool = option(False, help="continue the run in --out from its checkpoint")
    init: Path | None = option(
        None,
        help="fine-tune: start generator and critic from this checkpoint (training checkpoint or shipped "
        "weights; same editor, spec and resolution); optimisers fresh, step 0",
    )
    device: str = option("auto", help="auto, cpu or cuda (auto: cuda when available)")
    amp: bool = option(True, help="bfloat16 autocast on CUDA (ignored on CPU)")
    channels_last: bool = option(
        False, help="channels-last memory format (faster for inference, slower for training on CPU)"
    )
    threads: int | None = option(None, help="torch intra-op threads (default: torch's choice)")
    log_every: int = option(10, help="append losses to metrics.jsonl every this many steps")
    val_every: int = option(250, help="validation metrics every this many steps (0: only at the end)")
    val_size: int = option(32, help="validation images (fixed, from the dataset's val split)")
    au_detector: str = option(
        "auto",
        help="AU detector for validation: auto (aurig-ref on AU-rig when it loads), none, or a registered name",
    )
    ckpt_every: int = option(100, help="write the resumable checkpoint every this many steps")
    progress: bool = option(True, help="tqdm progress bar")

    def validate(self) -> None:
        """Check ranges and names; raises ConfigError naming the option."""
        from faceedit_bench import plugins
        from faceedit_bench.editors.spec import EditorSpec

        for name in (
            "resolution",
            "batch_size",
            "steps",
            "g_every",
            "log_every",
            "ckpt_every",
            "critic_channels",
        ):
            if getattr(self, name) <= 0:
                raise ConfigError(f"option '{name}' must be positive, got {getattr(self, name)}")
        if self.resolution & (self.resolution - 1) or self.resolution < 16:
            raise ConfigError(f"option 'resolution' must be a power of two >= 16, got {self.resolution}")
        for name in ("lr_g", "lr_d"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"option '{name}' must be positive")
        if not (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1):
            raise ConfigError("options 'beta1' and 'beta2' must be in [0, 1)")
        if not 0 <= self.lr_decay_fraction <= 1:
            raise ConfigError("option 'lr_decay_fraction' must be in [0, 1]")
        if self.time_budget_min is not None and self.time_budget_min <= 0:
            raise ConfigError("option 'time_budget_min' must be positive")
        if self.val_every < 0 or self.val_size <= 0:
            raise ConfigError("options 'val_every' must be >= 0 and 'val_size' > 0")
        if self.device not in ("auto", "cpu", "cuda") and not self.device.startswith("cuda:"):
            raise ConfigError(f"option 'device' must be auto, cpu or cuda, got {self.device!r}")
        cls = plugins.editors.get(self.editor)
        if not isinstance(getattr(cls, "spec", None), EditorSpec):
            raise ConfigError(f"editor {self.editor!r} is not trainable (it has no EditorSpec)")
        plugins.datasets.canonical(self.dataset)
        try:
            spec = self.editor_spec()
        except ValueError as err:
            raise ConfigError(f"option 'loss_weights': {err}") from None
        if self.init is not None:
            from faceedit_bench.training.checkpoint import load_init

            load_init(self.init, self.editor, spec, self.resolution)  # fail before any data is built

    def editor_spec(self):  # -> EditorSpec (import kept lazy)
        """The editor's registered spec with this config's size and loss-weight overrides."""
        from faceedit_bench import plugins

        spec = plugins.editors.get(self.editor).spec
        sizes = {
            k: getattr(self, k)
            for k in ("channels", "res_blocks", "motion_res_blocks")
            if getattr(self, k) is not None
        }
        bad = [k for k in self.loss_weights if not k.startswith("lambda_")]
        if bad:
            raise ValueError(f"only lambda_* weights can be overridden, got {', '.join(bad)}")
        return spec.with_overrides(**sizes, **{k: float(v) for k, v in self.loss_weights.items()})

    @property
    def run_dir(self) -> Path:
        return Path(self.out) if self.out is not None else Path("runs") / self.editor
