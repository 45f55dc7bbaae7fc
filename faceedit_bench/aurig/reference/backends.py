"""The AU-rig reference judges as harness backends (``aurig-ref``).

Weights ship in ``weights/`` with a JSON record. If the recorded code version (a
hash of the renderer and reference-network sources) differs from the current
code, the networks are retrained once into ``cache_dir("aurig-reference", hash)``
(a few minutes, logged) and loaded from there afterwards.
"""

from __future__ import annotations

import fcntl
import json
import logging
from pathlib import Path
from typing import Any, ClassVar

import torch

from faceedit_bench.api.backends import AUDetector, Availability, IdentityModel
from faceedit_bench.aurig.reference.models import INPUT_SIZE, AURegressor, IdentityEncoder
from faceedit_bench.aurig.version import reference_hash
from faceedit_bench.paths import cache_dir

log = logging.getLogger(__name__)

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


def _read_record(folder: Path, name: str) -> dict[str, Any] | None:
    path = folder / f"{name}.json"
    if not path.exists() or not (folder / f"{name}.pt").exists():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None


def weights_folder(name: str) -> tuple[Path, dict[str, Any]]:
    """Folder holding current ``name`` weights, retraining into the cache if the code changed."""
    version = reference_hash()
    shipped = _read_record(WEIGHTS_DIR, name)
    if shipped is not None and shipped.get("code_version") == version:
        return WEIGHTS_DIR, shipped
    folder = cache_dir("aurig-reference", version)
    record = _read_record(folder, name)
    if record is None:
        with open(folder / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one process trains, the others wait and reuse
            record = _read_record(folder, name)
            if record is None:
                from faceedit_bench.aurig.reference.train import train_all

                old = shipped.get("code_version") if shipped else "none"
                log.warning(
                    "AU-rig reference networks: shipped weights are for code %s, current code is %s; "
                    "retraining into %s (a few minutes, once)",
                    old,
                    version,
                    folder,
                )
                train_all(folder, command=f"automatic retrain by {__name__} (code changed)")
                record = _read_record(folder, name)
    if record is None:
        raise FileNotFoundError(f"{folder}: training did not produce {name}.pt/.json")
    return folder, record


def _load(model: torch.nn.Module, name: str) -> dict[str, Any]:
    folder, record = weights_folder(name)
    path = folder / f"{name}.pt"
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except (RuntimeError, OSError, KeyError) as err:
        raise ValueError(f"{path}: cannot load {type(model).__name__} weights ({err})") from None
    model.eval()
    return {"weights": str(path), "code_version": record.get("code_version"), "record": record}


def _check_images(images: torch.Tensor, who: str) -> None:
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"{who}: expected images (N, 3, H, W), got {tuple(images.shape)}")


class AuRigAUDetector(AUDetector):
    """Reference AU regressor for AU-rig faces: (N, 17) intensities on 0-5."""

    label: ClassVar[str] = "aurig-ref"
    input_size: ClassVar[int | None] = INPUT_SIZE

    def __init__(self) -> None:
        self.model = AURegressor(**_width(WEIGHTS_DIR, "au_regressor"))
        self._info = _load(self.model, "au_regressor")
        self.device = torch.device("cpu")

    @classmethod
    def availability(cls) -> Availability:
        return Availability(True, f"trained on AU-rig reference identities ({WEIGHTS_DIR})")

    def to(self, device: torch.device | str) -> AuRigAUDetector:
        self.device = torch.device(device)
        self.model.to(self.device)
        return self

    @torch.no_grad()
    def detect(self, images: torch.Tensor) -> torch.Tensor:
        _check_images(images, "aurig-ref AU detector")
        return self.model(images.to(self.device, torch.float32)).float().cpu()

    def provenance(self) -> dict[str, object]:
        val = self._info["record"].get("validation", {}).get("val", {})
        return {
            **super().provenance(),
            "weights": self._info["weights"],
            "code_version": self._info["code_version"],
            "val_mae": val.get("mae_mean"),
            "val_pearson_min": val.get("pearson_min"),
        }


class AuRigIdentityModel(IdentityModel):
    """Reference identity encoder for AU-rig faces: L2-normalised embeddings."""

    label: ClassVar[str] = "aurig-ref"
    input_size: ClassVar[int | None] = INPUT_SIZE
    threshold: ClassVar[float] = 0.5  # replaced per instance by the recorded EER threshold

    def __init__(self) -> None:
        self.model = IdentityEncoder(**_width(WEIGHTS_DIR, "identity_encoder", embed=True))
        self._info = _load(self.model, "identity_encoder")
        self.threshold = float(self._info["record"]["threshold"])  # type: ignore[misc]
        self.device = torch.device("cpu")

    @classmethod
    def availability(cls) -> Availability:
        return Availability(True, f"trained on AU-rig reference identities ({WEIGHTS_DIR})")

    def to(self, device: torch.device | str) -> AuRigIdentityModel:
        self.device = torch.device(device)
        self.model.to(self.device)
        return self

    @torch.no_grad()
    def embed(self, images: torch.Tensor) -> torch.Tensor:
        _check_images(images, "aurig-ref identity model")
        return self.model(images.to(self.device, torch.float32)).float().cpu()

    def provenance(self) -> dict[str, object]:
        val = self._info["record"].get("validation", {}).get("val", {})
        return {
            **super().provenance(),
            "weights": self._info["weights"],
            "code_version": self._info["code_version"],
            "threshold": self.threshold,
            "val_eer": val.get("eer"),
        }


def _width(folder: Path, name: str, embed: bool = False) -> dict[str, int]:
    """Architecture arguments recorded with the shipped weights (defaults if none)."""
    rec = _read_record(folder, name) or {}
    cfg = rec.get("config", {})
    out = {"width": int(cfg.get("width", 32))}
    if embed:
        out["dim"] = int(cfg.get("embed_dim", 64))
    return out
