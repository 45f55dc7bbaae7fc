"""Shift-tolerant LPIPS, AlexNet trunk (Ghildyal & Liu, ECCV 2022), from ``stlpips-pytorch``.

Its anti-aliased trunk and calibration ship in the wheel
(``weights/vST0.0/alex_shift_tolerant.pth``), so it runs offline. The package
imports IPython and torchsummary at import time. A different number from
``lpips-alex``: results keep the two apart by label.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path
from typing import ClassVar

import torch

from faceedit_bench.api.backends import Availability
from faceedit_bench.backends.lpips_alex import LpipsModule, load_exactly
from faceedit_bench.io import sha256_file


def shift_tolerant_weights() -> Path | None:
    """``alex_shift_tolerant.pth`` inside the installed ``stlpips-pytorch`` wheel, if any."""
    spec = importlib.util.find_spec("stlpips_pytorch")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "weights" / "vST0.0" / "alex_shift_tolerant.pth"
    return path if path.is_file() else None


class ShiftTolerantLpipsAlex(LpipsModule):
    """``distance(a, b) -> (N,)`` shift-tolerant LPIPS alex between images in [0, 1]."""

    label: ClassVar[str] = "stlpips-alex"

    def __init__(self, device: torch.device | str = "cpu") -> None:
        path = shift_tolerant_weights()
        if path is None:
            raise FileNotFoundError(self.availability().reason)
        from stlpips_pytorch.stlpips import LPIPS

        # pretrained=False: the package loads its file non-strictly; load_exactly checks every tensor
        self.model = LPIPS(net="alex", variant="shift_tolerant", pretrained=False, verbose=False).eval()
        load_exactly(self.model, torch.load(path, map_location="cpu", weights_only=True), path)
        self.model.requires_grad_(False)
        self._path, self._sha256 = path, sha256_file(path)
        self.to(device)

    @classmethod
    def availability(cls) -> Availability:
        path = shift_tolerant_weights()
        if path is None:
            return Availability(False, "install stlpips-pytorch==0.0.2 (with ipython and torchsummary)")
        return Availability(True, f"weights in the stlpips-pytorch wheel: {path}")

    def provenance(self) -> dict[str, object]:
        return {
            **super().provenance(),
            "weights": str(self._path),
            "weights_sha256": self._sha256,
            "stlpips_pytorch": importlib.metadata.version("stlpips-pytorch"),
        }
