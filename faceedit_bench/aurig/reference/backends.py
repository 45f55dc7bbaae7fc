"""The AU-rig reference judges as harness backends (``aurig-ref``).

Weights ship in the assets tree (:data:`.weights.WEIGHTS_DIR`) with a JSON record. They are valid while the
reference-network sources hash as recorded and the current renderer reproduces
the recorded renderer probe to within 1/255 (see :mod:`.probe`): a renderer that
only gets faster keeps them. Otherwise the networks are retrained once into
``cache_dir("aurig-reference", key)`` (several minutes, logged) and loaded from
there afterwards.
"""

from __future__ import annotations

import fcntl
import logging
from abc import abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import torch

from faceedit_bench.api.aus import AU_MAX
from faceedit_bench.api.backends import AUDetector, Availability, Backend, IdentityModel
from faceedit_bench.aurig.reference.models import INPUT_SIZE, AURegressor, IdentityEncoder, to_input
from faceedit_bench.aurig.reference.probe import probe_mismatch, reference_key
from faceedit_bench.aurig.reference.train import train_all
from faceedit_bench.aurig.reference.weights import (
    IDENTITY_WEIGHTS,
    WEIGHTS_DIR,
    architecture,
    build_model,
    checked_record,
    load_weights,
    read_record,
)
from faceedit_bench.paths import cache_dir

log = logging.getLogger(__name__)


def weights_folder(name: str) -> tuple[Path, dict[str, Any]]:
    """Folder holding valid ``name`` weights: the shipped ones, or a one-off retrain in the cache."""
    shipped = read_record(WEIGHTS_DIR, name)
    why = "no shipped weights" if shipped is None else probe_mismatch(WEIGHTS_DIR, shipped)
    if why is None:
        return WEIGHTS_DIR, shipped  # type: ignore[return-value]
    folder = cache_dir("aurig-reference", reference_key())
    record = read_record(folder, name)
    if record is None:
        with open(folder / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one process trains, the others wait and reuse
            record = read_record(folder, name)
            if record is None:
                log.warning(
                    "AU-rig reference networks: shipped weights do not fit the current code (%s); "
                    "retraining into %s (several minutes, once)",
                    why,
                    folder,
                )
                train_all(folder, command=f"automatic retrain by {__name__} (code changed)")
                record = read_record(folder, name)
    if record is None:
        raise FileNotFoundError(f"{folder}: training did not produce {name}.pt/.json")
    return folder, record


class _ReferenceNet(Backend):
    """Shared loading, device moves and provenance of the two reference networks."""

    weights_name: ClassVar[str]

    def __init__(self) -> None:
        folder, record = weights_folder(self.weights_name)
        self.weights = folder / f"{self.weights_name}.pt"
        self.model = load_weights(self.build(record), self.weights)
        self.record = record
        self.device = torch.device("cpu")

    @staticmethod
    @abstractmethod
    def build(record: dict[str, Any]) -> torch.nn.Module:
        """The untrained network of the architecture ``record`` names."""

    @classmethod
    def availability(cls) -> Availability:
        return Availability(True, f"trained on AU-rig reference identities ({WEIGHTS_DIR})")

    def to(self, device: torch.device | str) -> _ReferenceNet:
        self.device = torch.device(device)
        self.model.to(self.device)
        return self

    @torch.no_grad()
    def _forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(
                f"{self.label} {self.weights_name}: expected images (N, 3, H, W), got {tuple(images.shape)}"
            )
        return self.model(images.to(self.device, torch.float32)).float().cpu()

    def _val(self) -> dict[str, Any]:
        return self.record.get("validation", {}).get("val", {})

    def provenance(self) -> dict[str, object]:
        return {
            **super().provenance(),
            "weights": str(self.weights),
            "code_version": self.record.get("code_version"),
        }


class AuRigAUDetector(_ReferenceNet, AUDetector):
    """Reference AU regressor for AU-rig faces: (N, 17) intensities on 0-5."""

    label: ClassVar[str] = "aurig-ref"
    input_size: ClassVar[int | None] = INPUT_SIZE
    weights_name: ClassVar[str] = "au_regressor"

    @staticmethod
    def build(record: dict[str, Any]) -> torch.nn.Module:
        return AURegressor(architecture(record)["width"])

    def detect(self, images: torch.Tensor) -> torch.Tensor:
        return self._forward(images)

    def differentiable(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """``self.model`` in eval mode on its device, with gradients; outputs on the input's device.

        Values are :meth:`detect`'s (clipped to 0-5); the clip passes gradients straight
        through, so an attack can also move an AU that reads exactly 0 or 5.
        """

        def judge(images: torch.Tensor) -> torch.Tensor:
            model, x = self.model.eval(), images.to(self.device, torch.float32)
            if isinstance(model, AURegressor):
                raw = model.head(model.trunk(to_input(x))) * AU_MAX
            elif hasattr(model, "raw"):
                raw = model.raw(x)
            else:
                return model(x).float().to(images.device)
            return (raw + (raw.clamp(0, AU_MAX) - raw).detach()).float().to(images.device)

        return judge

    def provenance(self) -> dict[str, object]:
        val = self._val()
        return {
            **super().provenance(),
            "val_mae": val.get("mae_mean"),
            "val_pearson_min": val.get("pearson_min"),
        }


class AuRigIdentityModel(_ReferenceNet, IdentityModel):
    """Reference identity encoder for AU-rig faces: L2-normalised embeddings.

    Its threshold and the rule that chose it come from the weights' record
    (``validation.threshold_rule``, made at training or by :mod:`.evaluate`).
    """

    label: ClassVar[str] = "aurig-ref"
    input_size: ClassVar[int | None] = INPUT_SIZE
    weights_name: ClassVar[str] = IDENTITY_WEIGHTS

    def __init__(self) -> None:
        super().__init__()
        val = self.record.get("validation", {})
        self.threshold = float(self.record["threshold"])  # type: ignore[misc]
        self.threshold_rule = (val.get("threshold_rule") or {}).get("rule", OLD_RULE)  # type: ignore[misc]

    @staticmethod
    def build(record: dict[str, Any]) -> torch.nn.Module:
        arch = architecture(record)
        return IdentityEncoder(arch["width"], arch["embed_dim"])

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        return self._forward(images)

    def provenance(self) -> dict[str, object]:
        val = self.record.get("validation", {})
        rule = val.get("threshold_rule") or {}
        scores = {
            split: {
                "far": val[split].get("far_at_val_threshold"),
                "frr": val[split].get("frr_at_val_threshold"),
                **{f"genuine_{k}": v for k, v in (val[split].get("genuine") or {}).items() if k in _SHOWN},
                **{f"impostor_{k}": v for k, v in (val[split].get("impostor") or {}).items() if k in _SHOWN},
            }
            for split in ("val", "test")
            if isinstance(val.get(split), dict)
        }
        return {
            **super().provenance(),
            "threshold_applied": rule.get("applied"),
            "threshold_scores": scores,
            "val_eer": self._val().get("eer"),
        }


OLD_RULE = "the val equal-error-rate point (a record made before threshold rules were recorded)"
_SHOWN = ("n", "min", "p1", "p50", "p99", "max")  # of the recorded score statistics


class _TrainedJudge(AuRigAUDetector):
    """An AU-rig AU judge trained by :mod:`.robust_train` (weights shipped, never retrained silently)."""

    arch: ClassVar[str] = "plain"

    def __init__(self) -> None:
        record = checked_record(
            WEIGHTS_DIR, self.weights_name, "retrain them with the command in that record"
        )
        self.weights = WEIGHTS_DIR / f"{self.weights_name}.pt"
        self.model = load_weights(build_model(self.arch, architecture(record)["width"]), self.weights)
        self.record = record
        self.device = torch.device("cpu")

    def provenance(self) -> dict[str, object]:
        return {**super().provenance(), "robust": (self.record.get("robust") or {}).get("attack")}


class AuRigRobustAUDetector(_TrainedJudge):
    """The default AU-rig AU judge: ``aurig-ref`` adversarially fine-tuned (PGD) with colour changes."""

    label: ClassVar[str] = "aurig-robust"
    weights_name: ClassVar[str] = "au_regressor_robust"


class AuRigSecondAUDetector(_TrainedJudge):
    """A second AU-rig AU judge: another architecture (GroupNorm, pooled head) and seed, trained apart."""

    label: ClassVar[str] = "aurig-gn"
    weights_name: ClassVar[str] = "au_regressor_gn"
    arch: ClassVar[str] = "gn"
