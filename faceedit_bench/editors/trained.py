"""The Editor wrapper every trained generator shares: load a checkpoint, edit at any size.

A registered trained editor is a subclass that sets ``name``, ``group`` and
``spec``; ``create()`` loads the given checkpoint or the one shipped for that name.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from faceedit_bench.api.editor import Editor, EditorLoadError, EditOutput
from faceedit_bench.editors.generator import build_generator
from faceedit_bench.editors.output import GeneratorOutput
from faceedit_bench.editors.spec import EditorSpec
from faceedit_bench.editors.supervision import TRAINED_REGIMES, record_regime, regime_of_config
from faceedit_bench.editors.warp import identity_grid
from faceedit_bench.io import sha256_file
from faceedit_bench.safe_load import UnsafeOrBrokenFile, load_tensors
from faceedit_bench.shipped import asset_dir, find_shipped, is_shipped, training_log

CHECKPOINT_ROOT = asset_dir("editors")
SHIPPED_DATASET = "aurig"  # the dataset of the set used when a caller names none


def shipped_checkpoint(name: str, checkpoint_set: str, root: Path | None = None) -> Path | None:
    """``name``'s checkpoint in the shipped set ``checkpoint_set`` (``<dataset>-<resolution>``).

    A set without ``name`` falls back to the nearest resolution of the *same* dataset
    (``aurig-32`` -> ``aurig-64``), never to another dataset's set.
    """
    root = CHECKPOINT_ROOT if root is None else root
    candidates = [checkpoint_set]
    dataset, _, res = checkpoint_set.rpartition("-")
    if dataset and res.isdigit():
        shipped = [d.name for d in root.glob(f"{dataset}-*") if d.name[len(dataset) + 1 :].isdigit()]
        candidates += sorted(shipped, key=lambda d: abs(int(d[len(dataset) + 1 :]) - int(res)))
    for candidate in candidates:
        path = root / candidate / f"{name}.pt"
        if path.is_file():
            return path
    return None


def init_regime(init: Mapping[str, Any] | str) -> str | None:
    """The supervision regime of the checkpoint a training run started from (``config.init``: a
    path, or a record with its sha256): found by sha256 among the shipped checkpoints, else by its
    path (a path from before the assets tree, ``.../editors/checkpoints/<set>/<editor>.pt``, is
    looked up there), its JSON record or the regime the checkpoint records; None when unknown."""
    record = {"path": init} if isinstance(init, str) else init
    found = find_shipped(str(record.get("sha256", ""))) if record.get("sha256") else None
    path = found or (Path(str(record["path"])) if record.get("path") else None)
    if path is not None and not path.is_file() and "editors/checkpoints/" in path.as_posix():
        path = CHECKPOINT_ROOT / path.as_posix().split("editors/checkpoints/", 1)[1]
    if path is None:
        return None
    regime = record_regime(path.with_suffix(".json"))
    if regime is None and path.is_file():  # a training run's own checkpoint records its regime inside
        try:
            state = load_tensors(path, "checkpoint named by option 'init'")
        except UnsafeOrBrokenFile:
            return None
        if isinstance(state, dict):
            recorded = state.get("supervision")
            regime = str(recorded) if recorded in TRAINED_REGIMES else regime_of_config(state.get("config"))
    return regime if regime in TRAINED_REGIMES else None


def resolve_device(device: str) -> torch.device:
    """``"auto"`` -> cuda when available, else cpu."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def cpu_has_bf16() -> bool:
    """Whether oneDNN runs bfloat16 natively on this CPU (AMX / AVX512-BF16); else bf16 is slow."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def _resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(x.shape[-2:]) == size:
        return x
    return F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)


def _resize_grid(grid: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """A sampling grid at another size: its displacement is resized, the identity is exact.

    Resizing the grid itself would clamp the identity ramp at the border pixels.
    """
    n, h, w, _ = grid.shape
    if (h, w) == size:
        return grid
    disp = (grid - identity_grid(n, h, w, grid.device, grid.dtype)).permute(0, 3, 1, 2)
    disp = F.interpolate(disp, size=size, mode="bilinear", align_corners=False).permute(0, 2, 3, 1)
    return (identity_grid(n, *size, device=grid.device, dtype=grid.dtype) + disp).contiguous()


class TrainedEditor(Editor):
    """An editor backed by a trained generator (two-stage family or GANimation)."""

    name: ClassVar[str] = "trained"  # type: ignore[misc]
    group: ClassVar[str] = "two-stage"
    spec: ClassVar[EditorSpec] = EditorSpec()
    use_bf16: ClassVar[bool] = False  # fp32 inference by default: results do not depend on the CPU

    def __init__(self, generator: torch.nn.Module, state: dict[str, Any], checkpoint: Path | None) -> None:
        self.generator = generator.eval()
        self.resolution = int(state["resolution"])
        self.state_meta = {
            k: v for k, v in state.items() if k not in {"generator", "critic", "opt_g", "opt_d", "rng"}
        }
        self.checkpoint = checkpoint
        self.device = next(generator.parameters()).device

    # -- construction ---------------------------------------------------------------
    @classmethod
    def create(
        cls, *, checkpoint: str | None, resolution: int, device: str, checkpoint_set: str | None = None
    ) -> TrainedEditor:
        """Load ``checkpoint``, or this editor's one in the shipped ``checkpoint_set`` when ``None``.

        ``checkpoint_set`` defaults to AU-rig's set at ``resolution`` (the nearest shipped).
        """
        if checkpoint is None:
            checkpoint_set = checkpoint_set or f"{SHIPPED_DATASET}-{resolution}"
            path = shipped_checkpoint(cls.name, checkpoint_set)
            if path is None:
                dataset, _, res = checkpoint_set.rpartition("-")
                raise EditorLoadError(
                    f"no shipped checkpoint for editor {cls.name!r} in set {checkpoint_set!r} (looked under "
                    f"{CHECKPOINT_ROOT}/{dataset or checkpoint_set}-*; other datasets' sets are not used). "
                    f"Train one with `faceedit-bench train --editor {cls.name} --dataset {dataset or '...'} "
                    f"--resolution {res if res.isdigit() else resolution} --out runs/{cls.name}` and pass "
                    f"--checkpoint {cls.name}=runs/{cls.name}/checkpoint.pt."
                )
        else:
            path = Path(checkpoint).expanduser()
            if not path.is_file():
                raise EditorLoadError(f"checkpoint {path} for editor {cls.name!r} does not exist")
        return cls.load(path, device=device)

    @classmethod
    def load(cls, path: Path, device: str = "cpu") -> TrainedEditor:
        """Build the generator a checkpoint (full training state or exported weights) describes."""
        try:
            state = load_tensors(path, f"checkpoint of editor {cls.name!r}")
        except UnsafeOrBrokenFile as err:
            raise EditorLoadError(str(err)) from None
        if not isinstance(state, dict) or not isinstance(state.get("generator"), dict) or "spec" not in state:
            raise EditorLoadError(f"{path} is not a faceedit-bench editor checkpoint")
        if state.get("editor") not in (None, cls.name):
            raise EditorLoadError(f"{path} holds editor {state.get('editor')!r}, not {cls.name!r}")
        try:
            generator = build_generator(EditorSpec.from_json(state["spec"]))
            generator.load_state_dict({k: v.float() for k, v in state["generator"].items()})
        except (RuntimeError, TypeError, ValueError, KeyError, AttributeError) as err:
            reason = str(err).splitlines()[0]
            raise EditorLoadError(f"{path}: its weights do not fit editor {cls.name!r} ({reason})") from None
        generator.to(resolve_device(device), memory_format=torch.channels_last)  # faster inference on CPU
        return cls(generator, state, path)

    def to(self, device: torch.device | str) -> TrainedEditor:
        self.device = resolve_device(str(device))
        self.generator.to(self.device)
        return self

    # -- editing --------------------------------------------------------------------
    @torch.no_grad()
    def edit(self, images: torch.Tensor, target_aus: torch.Tensor) -> EditOutput:
        """Edit at the trained resolution; outputs come back at the input's size.

        Away from the trained size the edit is composited at the input's resolution
        (ours): ``up(out_low) + up(M) * (warped_full - up(warped_low))``, where
        ``warped_full`` is the input warped by the upsampled grid (the input itself
        without a motion step) and ``M`` = 1 without a texture step. Wherever the
        mask keeps the (warped) input, the output keeps its full-resolution detail
        instead of a blurred low-resolution copy; at the trained size it is the
        generator's output exactly.
        """
        size = (int(images.shape[-2]), int(images.shape[-1]))
        x = images.to(self.device, torch.float32)
        model_in = _resize(x, (self.resolution, self.resolution)).clamp(0, 1)
        model_in = model_in.contiguous(memory_format=torch.channels_last)
        with self._autocast():
            out = self.generator(model_in, target_aus.to(self.device, torch.float32))
        out = GeneratorOutput(
            *(t.float() if t is not None else None for t in (out.images, out.grid, out.mask, out.warped))
        )
        edited = _resize(out.images, size)
        flow = warped = mask = None
        if out.grid is not None:
            flow = _resize_grid(out.grid, size)
            warped = torch.nn.functional.grid_sample(
                x, flow, mode="bilinear", padding_mode="border", align_corners=False
            )
        if out.mask is not None:
            mask = _resize(out.mask, size).clamp(0, 1)
        if size != tuple(model_in.shape[-2:]):
            kept_low = out.warped if out.warped is not None else model_in
            kept_full = warped if warped is not None else x
            keep = mask if mask is not None else 1.0
            edited = edited + keep * (kept_full - _resize(kept_low.float(), size))
        return EditOutput(images=edited.clamp(0, 1), flow=flow, mask=mask, warped=warped)

    def _autocast(self) -> contextlib.AbstractContextManager:
        """bfloat16 inference where it is native (CUDA, AMX CPUs) when ``use_bf16`` is set."""
        if not self.use_bf16:
            return contextlib.nullcontext()
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        if self.device.type == "cpu" and cpu_has_bf16():
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    # -- provenance -----------------------------------------------------------------
    def training_metrics_path(self) -> Path | None:
        """A shipped checkpoint's log in the assets tree (or ``<stem>.metrics.jsonl`` beside a
        checkpoint), else the run's ``metrics.jsonl``."""
        if self.checkpoint is None:
            return None
        shipped = [training_log(self.checkpoint)] if is_shipped(self.checkpoint) else []
        for candidate in (
            *shipped,
            self.checkpoint.with_name(f"{self.checkpoint.stem}.metrics.jsonl"),
            self.checkpoint.parent / "metrics.jsonl",
        ):
            if candidate.is_file():
                return candidate
        return None

    def describe(self) -> dict[str, object]:
        meta = self.state_meta
        metrics = self.training_metrics_path()
        return {
            **super().describe(),
            "editor": self.name,
            "group": self.group,
            "checkpoint": str(self.checkpoint) if self.checkpoint else None,
            "sha256": sha256_file(self.checkpoint) if self.checkpoint else None,
            "resolution": self.resolution,
            "spec": meta.get("spec"),
            "training_config": meta.get("config"),
            "step": meta.get("step"),
            "seed": meta.get("seed"),
            "code_version": meta.get("code_version"),
            "final_metrics": meta.get("final_metrics"),
            "training_metrics": str(metrics) if metrics else None,
            "supervision": self.supervision(),
        }

    def supervision(self) -> str:
        """``paired`` or ``unpaired`` (see :mod:`faceedit_bench.editors.supervision`)."""
        recorded = self.state_meta.get("supervision")  # written by train since regimes exist
        return (
            str(recorded)
            if recorded in TRAINED_REGIMES
            else regime_of_config(self.state_meta.get("config"), init_regime)
        )
