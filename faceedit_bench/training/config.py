"""TrainConfig: every option of ``faceedit-bench train``, validated in one place.

Options left unset come from the named recipe (:mod:`faceedit_bench.training.recipes`):
``cpu-64`` (ours, the default) or ``ganimation-paper`` (GANimation's published setup,
Pumarola et al., ECCV 2018). Shared by both: Adam betas (0.5, 0.999), linear
learning-rate decay to zero over the last third of training, target AUs = another
sample's AUs + U(-0.1, 0.1) on the /5 scale (GANimation).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faceedit_bench.config import ConfigError, option, require_positive
from faceedit_bench.editors.layers import UPSAMPLING
from faceedit_bench.training.pretrain_files import load_critic_init, load_motion_init
from faceedit_bench.training.recipes import CRITIC_ROOT, DEFAULT_RECIPE, MOTION_ROOT


def _shipped_names(root: Path) -> str:
    """The pre-trained files a recipe can use (``aurig-64, video-64``), or ``none``."""
    names = sorted(p.stem for p in root.glob("*.pt")) if root.is_dir() else []
    return ", ".join(names) or "none"


@dataclass
class TrainConfig:
    """Options of one training run (CLI flags, YAML keys and library arguments)."""

    editor: str = option(help="registered trained editor to train (e.g. two-stage, ganimation)")
    dataset: str = option("aurig", help="registered FaceDataset to train on")
    dataset_args: dict[str, Any] = option(
        {}, help="dataset constructor arguments, e.g. --dataset-args root=FACES aus=FACES/aus.csv"
    )
    strict: bool = option(False, help="fail if the dataset skips any image (unreadable, no face)")
    recipe: str = option(
        DEFAULT_RECIPE,
        help="named training recipe that fills every option left unset: cpu-64 (ours, 2-core CPU) or "
        "ganimation-paper (GANimation's published setup, for GPUs)",
    )
    resolution: int | None = option(
        None, help="training resolution in pixels (from the recipe; GANimation: 128)"
    )
    batch_size: int | None = option(None, help="global batch size, split over DDP ranks (GANimation: 25)")
    steps: int | None = option(
        None, help="critic steps (one batch each); the generator steps every --g-every"
    )
    time_budget_min: float | None = option(
        None, help="wall-clock budget: after calibration, plan the steps that fit"
    )
    lr_g: float | None = option(None, help="generator Adam learning rate (GANimation: 1e-4)")
    lr_d: float | None = option(None, help="critic Adam learning rate (GANimation: 1e-4)")
    beta1: float = option(0.5, help="Adam beta1 (GANimation: 0.5)")
    beta2: float = option(0.999, help="Adam beta2 (GANimation: 0.999)")
    g_every: int | None = option(None, help="one generator step every this many critic steps (GANimation: 5)")
    lr_decay_fraction: float = option(1 / 3, help="linear lr decay to zero over this final fraction of steps")
    au_noise: float = option(0.1, help="uniform noise added to target AUs on the /5 scale (GANimation: 0.1)")
    channels: int | None = option(None, help="override the editor's generator base channels")
    res_blocks: int | None = option(None, help="override the editor's texture/GANimation residual blocks")
    motion_res_blocks: int | None = option(None, help="override the editor's motion residual blocks")
    loss_weights: dict[str, float] = option(
        {}, help="override loss weights (on top of the recipe's), e.g. --loss-weights lambda_flow_tv=0"
    )
    critic_channels: int | None = option(None, help="critic base channels (GANimation: 64)")
    critic_max_channels: int | None = option(None, help="critic channel cap (GANimation: 2048)")
    critic_init: Path | None = option(
        None,
        help="start the critic from this pre-trained file (python -m faceedit_bench.training.critic_pretrain; "
        "recipe cpu-64 uses the one shipped for the dataset and resolution)",
    )
    motion_init: Path | None = option(
        None,
        help="start the two-stage motion step from this pre-trained file (python -m "
        "faceedit_bench.training.motion_pretrain; default: the recipe's for the dataset and resolution, "
        "if it ships one; none: from scratch, or with --init: --init's); it replaces the motion step "
        "--init brings",
    )
    freeze_motion: bool | None = option(
        None,
        help="keep the motion step as it starts (from --motion-init or --init) and train the rest (cpu-64: "
        "yes when it starts from a pre-trained motion step)",
    )
    critic_warmup_steps: int | None = option(
        None, help="critic steps of AU regression on real training images before the first generator step"
    )
    critic_au_aug: float = option(
        0.0,
        help="strength of AU-free colour blobs + noise on real images that the critic's AU head must read as "
        "the faces' own AUs (0: off; 1: blob amplitude 0.25, noise std up to 0.05)",
    )
    stem_norm: bool | None = option(
        None,
        help="instance norm after the generator's stem (GANimation: yes; it erases the tiled AU channels "
        "away from the border)",
    )
    upsample: str | None = option(
        None,
        help="generator upsampling: transposed (GANimation) or resize (bilinear + conv, no checkerboard)",
    )
    flow: str | None = option(
        None,
        help="motion-step flow parametrisation: increments (the paper's Deforming-Autoencoders warper) or "
        "displacement (a bounded field; no row/column stripes); editors without a motion step ignore it",
    )
    texture: str | None = option(
        None,
        help="two-stage texture step: colour (GANimation's colour head) or shading (a grey level added to "
        "the warped image: no hue change); GANimation and warp-only ignore it",
    )
    pair_on: str | None = option(
        None,
        help="what lambda_pair compares with the same-person image: output (every editor's edit) or warp "
        "(the motion step's warp; editors without one use their output)",
    )
    seed: int = option(0, help="seed of weights, batches, target AUs and penalties")
    out: Path | None = option(None, help="run folder (default runs/<editor>)")
    resume: bool = option(False, help="continue the run in --out from its checkpoint")
    init: Path | None = option(
        None,
        help="fine-tune: start generator and critic from this checkpoint (training checkpoint or shipped "
        "weights; same editor, spec and resolution); optimisers fresh, step 0. Shipped weights hold no "
        "critic: it then starts from --critic-init (default: the recipe's pre-trained one for the dataset)",
    )
    device: str = option("auto", help="auto, cpu or cuda (auto: cuda when available)")
    cache_images: bool = option(
        True, help="keep drawn training images in memory, each made once (same numbers; up to 4 GiB)"
    )
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
    logger: str = option(
        "auto", help="also log to tensorboard (auto: when installed), mlflow or none; metrics.jsonl always"
    )

    def __post_init__(self) -> None:
        """Fill every option left unset (None) from the recipe; recipe loss weights go under the user's."""
        from faceedit_bench import plugins

        if self.recipe not in plugins.recipes:
            return  # validate() names the unknown recipe
        recipe = plugins.recipes.get(self.recipe)
        for name, value in recipe.values.items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        self.loss_weights = {**recipe.loss_weights, **self.loss_weights}
        # what the recipe would start from but cannot here (printed and recorded by train: never silent)
        self.recipe_notes: list[str] = []
        # with --init too: shipped weights hold no critic (a training checkpoint's critic wins over it)
        if self.critic_init is None:
            self.critic_init = recipe.critic_init(self.dataset, self.resolution)
            if recipe.shipped_critic and self.critic_init is None:
                self.recipe_notes.append(
                    f"recipe {recipe.name} starts the critic from a pre-trained AU head, but none ships for "
                    f"dataset {self.dataset!r} at {self.resolution} px (shipped: {_shipped_names(CRITIC_ROOT)}); "
                    "the critic starts from scratch (pre-train one with python -m "
                    "faceedit_bench.training.critic_pretrain and pass --critic-init FILE)"
                )
        spec = (
            getattr(plugins.editors.get(self.editor), "spec", None)
            if self.editor in plugins.editors
            else None
        )
        if self.motion_init is not None and str(self.motion_init).lower() == "none":
            self.motion_init = None  # --motion-init none: the motion step starts from scratch
        elif self.motion_init is None and getattr(spec, "use_motion", False):
            self.motion_init = recipe.motion_init(
                self.dataset,
                self.resolution,
                self.editor,
                self.has_flow_tv(),
            )
            if recipe.shipped_motion and self.motion_init is None:
                frozen = " and keeps it frozen" if recipe.freeze_motion else ""
                self.recipe_notes.append(
                    f"recipe {recipe.name} starts the motion step from a pre-trained one{frozen}, but none "
                    f"ships for editor {self.editor!r} on dataset {self.dataset!r} at {self.resolution} px "
                    f"(shipped: {_shipped_names(MOTION_ROOT)}); the motion step trains from scratch, end to "
                    "end (pre-train one with python -m faceedit_bench.training.motion_pretrain and pass "
                    "--motion-init FILE)"
                )
        # the recipe freezes a pre-trained motion step when a texture step trains
        if self.freeze_motion is None:
            self.freeze_motion = bool(
                recipe.freeze_motion and self.motion_init is not None and getattr(spec, "use_texture", False)
            )

    def validate(self) -> None:
        """Check ranges and names; raises ConfigError naming the option."""
        from faceedit_bench import plugins
        from faceedit_bench.editors.spec import EditorSpec

        plugins.recipes.get(self.recipe)  # an unknown name fails with the known ones
        require_positive(
            self, "resolution", "batch_size", "steps", "g_every", "log_every", "ckpt_every", "critic_channels"
        )
        if self.resolution & (self.resolution - 1) or self.resolution < 16:
            raise ConfigError(f"option 'resolution' must be a power of two >= 16, got {self.resolution}")
        for name in ("lr_g", "lr_d"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"option '{name}' must be positive")
        if not (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1):
            raise ConfigError("options 'beta1' and 'beta2' must be in [0, 1)")
        if self.critic_warmup_steps < 0 or self.critic_warmup_steps >= self.steps:
            raise ConfigError("option 'critic_warmup_steps' must be in [0, steps)")
        if self.upsample is not None and self.upsample not in UPSAMPLING:
            raise ConfigError(
                f"option 'upsample' must be one of {', '.join(UPSAMPLING)}, got {self.upsample!r}"
            )
        from faceedit_bench.editors.warp import FLOW_PARAMETRISATIONS

        if self.flow is not None and self.flow not in FLOW_PARAMETRISATIONS:
            raise ConfigError(
                f"option 'flow' must be one of {', '.join(FLOW_PARAMETRISATIONS)}, got {self.flow!r}"
            )
        from faceedit_bench.editors.texture_net import TEXTURES

        if self.texture is not None and self.texture not in TEXTURES:
            raise ConfigError(f"option 'texture' must be one of {', '.join(TEXTURES)}, got {self.texture!r}")
        if self.pair_on is not None and self.pair_on not in ("output", "warp"):
            raise ConfigError(f"option 'pair_on' must be output or warp, got {self.pair_on!r}")
        if self.critic_au_aug < 0:
            raise ConfigError(f"option 'critic_au_aug' must be >= 0, got {self.critic_au_aug}")
        if not 0 <= self.lr_decay_fraction <= 1:
            raise ConfigError("option 'lr_decay_fraction' must be in [0, 1]")
        if self.time_budget_min is not None and self.time_budget_min <= 0:
            raise ConfigError("option 'time_budget_min' must be positive")
        if self.val_every < 0 or self.val_size <= 0:
            raise ConfigError("options 'val_every' must be >= 0 and 'val_size' > 0")
        from faceedit_bench.training.loggers import LOGGERS, available

        if self.logger not in LOGGERS or not available(self.logger):
            raise ConfigError(
                f"option 'logger' must be one of {', '.join(LOGGERS)} with its package installed, got {self.logger!r}"
            )
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
        if self.critic_init is not None:
            load_critic_init(
                self.critic_init, self.resolution, self.critic_channels, self.critic_max_channels
            )
        if self.motion_init is not None:
            try:
                load_motion_init(self.motion_init, spec, self.resolution)
            except ConfigError as err:
                raise ConfigError(
                    f"{err} (recipe {self.recipe} starts the motion step from it; pass --motion-init none to "
                    "train it from scratch, or pre-train one: python -m faceedit_bench.training.motion_pretrain)"
                ) from None
        if self.freeze_motion and not spec.use_motion:
            raise ConfigError(f"option 'freeze_motion': editor {self.editor!r} has no motion step")
        if self.freeze_motion and not spec.use_texture:
            raise ConfigError(
                f"option 'freeze_motion': editor {self.editor!r} would have nothing left to train"
            )
        if self.freeze_motion and self.motion_init is None and self.init is None:
            raise ConfigError(
                "option 'freeze_motion': the motion step would stay the identity warp; give --motion-init or --init"
            )
        if self.init is not None:
            from faceedit_bench.training.checkpoint import load_init

            load_init(self.init, self.editor, spec, self.resolution)  # fail before any data is built

    def has_flow_tv(self) -> bool:
        """Whether this run's editor keeps the flow TV regulariser (recipe and user weights applied)."""
        from faceedit_bench import plugins

        spec = plugins.editors.get(self.editor).spec
        return self.loss_weights.get("lambda_flow_tv", spec.lambda_flow_tv) > 0

    def editor_spec(self):  # -> EditorSpec (import kept lazy)
        """The editor's registered spec with this config's size and loss-weight overrides."""
        from faceedit_bench import plugins

        spec = plugins.editors.get(self.editor).spec
        sizes = {
            k: getattr(self, k)
            for k in (
                "channels",
                "res_blocks",
                "motion_res_blocks",
                "upsample",
                "stem_norm",
                "flow",
                "texture",
                "pair_on",
            )
            if getattr(self, k) is not None
        }
        if not spec.use_motion:
            sizes.pop("flow", None)  # no motion step: keep the editor's recorded spec free of it
        if spec.generator != "two-stage" or not spec.use_texture:
            sizes.pop("texture", None)  # GANimation keeps its colour head; warp-only has no texture step
        bad = [k for k in self.loss_weights if not k.startswith("lambda_")]
        if bad:
            raise ValueError(f"only lambda_* weights can be overridden, got {', '.join(bad)}")
        return spec.with_overrides(**sizes, **{k: float(v) for k, v in self.loss_weights.items()})

    @property
    def run_dir(self) -> Path:
        return Path(self.out) if self.out is not None else Path("runs") / self.editor
