"""Training loggers beside ``metrics.jsonl`` (which stays the source of truth): TensorBoard, MLflow.

``train --logger tensorboard`` (the default when the ``tensorboard`` package is
installed) writes event files under the run folder through
``torch.utils.tensorboard``: every scalar appended to ``metrics.jsonl``
(``train/...``, ``val/...``, learning rates), the validation image grid with its rows
named (source, the image whose AUs are the target, warped, edit, flow, mask: each where
the editor has it, as :meth:`Validator.save_png` draws it) and the hyper-parameters with
the final metrics, whose ``final/*`` scalars sit at the last logged step. ``--logger mlflow`` logs the same to MLflow's tracking URI. ``none``
logs nothing else. Read them with ``tensorboard --logdir runs/train``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any, Protocol

import numpy as np

LOGGERS = ("auto", "tensorboard", "mlflow", "none")


class TrainLogger(Protocol):
    def scalars(self, step: int, kind: str, values: dict[str, float]) -> None: ...
    def image(self, step: int, tag: str, png: Path) -> None: ...
    def close(self, hparams: dict[str, Any], final: dict[str, float]) -> None: ...


def available(name: str) -> bool:
    """Whether the package behind logger ``name`` is installed."""
    module = {"tensorboard": "tensorboard", "mlflow": "mlflow"}.get(name)
    return module is None or importlib.util.find_spec(module) is not None


def resolve(name: str) -> str:
    """``auto`` -> ``tensorboard`` when installed, else ``none``; others unchanged."""
    if name == "auto":
        return "tensorboard" if available("tensorboard") else "none"
    return name


def _scalar_items(values: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in values.items() if isinstance(v, int | float) and np.isfinite(v)}


def _tag(kind: str, key: str) -> str:
    """``loss/critic`` under train stays ``loss/critic``; a bare key gets the record kind in front."""
    return key if "/" in key else f"{kind}/{key}"


def _png_hwc(png: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(png) as im:
        return np.asarray(im.convert("RGB"))


def _flat(config: dict[str, Any]) -> dict[str, Any]:
    """Hyper-parameters as scalars and strings (what TensorBoard's HParams and MLflow accept)."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in _flat(value).items()})
        elif isinstance(value, bool | int | float | str):
            out[key] = value
        elif value is not None:
            out[key] = str(value)
    return out


class TensorBoardLogger:
    """``torch.utils.tensorboard.SummaryWriter`` under ``run_dir/tensorboard``."""

    def __init__(self, run_dir: Path, purge_step: int | None = None) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.log_dir = run_dir / "tensorboard"
        self.writer = SummaryWriter(str(self.log_dir), purge_step=purge_step)
        self.last_step = 0

    def scalars(self, step: int, kind: str, values: dict[str, float]) -> None:
        self.last_step = max(self.last_step, step)
        for key, value in _scalar_items(values).items():
            self.writer.add_scalar(_tag(kind, key), value, step)

    def image(self, step: int, tag: str, png: Path) -> None:
        self.last_step = max(self.last_step, step)
        self.writer.add_image(tag, _png_hwc(png), step, dataformats="HWC")

    def close(self, hparams: dict[str, Any], final: dict[str, float]) -> None:
        """The HParams entry, and its ``final/*`` metrics as scalars at the last step (not at 0,
        where ``SummaryWriter.add_hparams`` would put them)."""
        from torch.utils.tensorboard.summary import hparams as hparams_summary

        metrics = {f"final/{k}": v for k, v in _scalar_items(final).items()}
        writer = self.writer._get_file_writer()
        for summary in hparams_summary(_flat(hparams), metrics):
            writer.add_summary(summary, self.last_step)
        for key, value in metrics.items():
            self.writer.add_scalar(key, value, self.last_step)
        self.writer.close()


class MLflowLogger:
    """One MLflow run per training run (tracking URI from ``MLFLOW_TRACKING_URI`` or ``./mlruns``)."""

    def __init__(self, run_dir: Path, hparams: dict[str, Any]) -> None:
        import mlflow

        self.mlflow = mlflow
        mlflow.start_run(run_name=run_dir.name)
        mlflow.log_params({k: str(v)[:250] for k, v in _flat(hparams).items()})

    def scalars(self, step: int, kind: str, values: dict[str, float]) -> None:
        clean = {_tag(kind, k).replace("/", "."): v for k, v in _scalar_items(values).items()}
        self.mlflow.log_metrics(clean, step=step)

    def image(self, step: int, tag: str, png: Path) -> None:
        self.mlflow.log_image(_png_hwc(png), f"{tag}/step_{step:06d}.png")

    def close(self, hparams: dict[str, Any], final: dict[str, float]) -> None:
        self.mlflow.end_run()


class NullLogger:
    """Logs nothing (``--logger none``, and on non-main DDP ranks)."""

    def scalars(self, step: int, kind: str, values: dict[str, float]) -> None:
        pass

    def image(self, step: int, tag: str, png: Path) -> None:
        pass

    def close(self, hparams: dict[str, Any], final: dict[str, float]) -> None:
        pass


def make_logger(name: str, run_dir: Path, hparams: dict[str, Any], start_step: int = 0) -> TrainLogger:
    """The logger ``name`` (see :data:`LOGGERS`) for a run folder; a resumed run drops events past its step."""
    name = resolve(name)
    if name == "tensorboard":
        return TensorBoardLogger(run_dir, purge_step=start_step + 1 if start_step else None)
    if name == "mlflow":
        return MLflowLogger(run_dir, hparams)
    return NullLogger()
