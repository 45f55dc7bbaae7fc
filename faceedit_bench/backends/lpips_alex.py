"""LPIPS with the AlexNet trunk (Zhang et al., CVPR 2018), from the ``lpips`` package.

The package's calibrated linear layers ship in its wheel (``weights/v0.1/alex.pth``);
the trunk needs torchvision's ImageNet AlexNet weights, used only when already in
the torch hub cache (``$TORCH_HOME/hub/checkpoints/alexnet-owt-7be5be79.pth``):
the trunk is built without weights and that file is loaded here, so nothing is
ever downloaded.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import warnings
from pathlib import Path
from typing import ClassVar

import torch

from faceedit_bench.api.backends import Availability, PerceptualDistance
from faceedit_bench.io import sha256_file
from faceedit_bench.paths import torch_home

ALEXNET_WEIGHTS = "alexnet-owt-7be5be79.pth"
ALEXNET_SHA256_PREFIX = "7be5be79"  # torch hub names files by their sha256 prefix
MIN_SIZE = 32  # AlexNet's pooling needs at least this many pixels per side


def alexnet_weights_path() -> Path:
    return torch_home() / "hub" / "checkpoints" / ALEXNET_WEIGHTS


def load_exactly(module: torch.nn.Module, state: dict[str, torch.Tensor], source: Path | str) -> None:
    """Load ``state`` into ``module``; every tensor of the module must be set and every entry used.

    A key reported missing is fine when it names a tensor that a loaded key also
    names (LPIPS registers its linear layers twice, as ``linK`` and ``lins.K``).
    """
    missing, unexpected = module.load_state_dict(state, strict=False)
    own = module.state_dict(keep_vars=True)
    loaded = {own[k].data_ptr() for k in state if k in own}
    missing = [k for k in missing if own[k].data_ptr() not in loaded]
    if missing or unexpected:
        raise ValueError(f"{source}: weights do not fit (missing {missing[:5]}, unexpected {unexpected[:5]})")


def check_pair(a: torch.Tensor, b: torch.Tensor, label: str) -> None:
    if a.dim() != 4 or a.shape != b.shape or a.shape[1] != 3:
        raise ValueError(
            f"{label}: expected two (N, 3, H, W) batches of one shape, got {tuple(a.shape)} and {tuple(b.shape)}"
        )
    if min(a.shape[-2:]) < MIN_SIZE:
        raise ValueError(f"{label}: images of {tuple(a.shape[-2:])} px are below the {MIN_SIZE}-px minimum")


def _lpips_linear_weights() -> Path:
    spec = importlib.util.find_spec("lpips")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("lpips-alex needs the lpips package (pip install lpips==0.1.4)")
    return Path(spec.origin).parent / "weights" / "v0.1" / "alex.pth"


class LpipsModule(PerceptualDistance):
    """An LPIPS-package-style network ``model(x, y)`` on [-1, 1] inputs, held in ``self.model``."""

    lean_threads: ClassVar[bool] = True
    joins_worker: ClassVar[bool] = True  # beside dlib / MediaPipe, while the pass runs Inception
    model: torch.nn.Module
    device: torch.device

    def to(self, device: torch.device | str) -> LpipsModule:
        self.device = torch.device(device)
        self.model.to(self.device)
        return self

    @torch.no_grad()
    def distance(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        check_pair(a, b, self.label)
        x, y = (t.to(self.device, torch.float32) * 2 - 1 for t in (a, b))  # the package expects [-1, 1]
        return self.model(x, y).reshape(-1).double()


class LpipsAlex(LpipsModule):
    """``distance(a, b) -> (N,)`` LPIPS v0.1 alex between images in [0, 1]."""

    label: ClassVar[str] = "lpips-alex"

    def __init__(self, device: torch.device | str = "cpu") -> None:
        import lpips

        trunk = alexnet_weights_path()
        if not trunk.is_file():
            raise FileNotFoundError(self.availability().reason)
        self._sha256 = sha256_file(trunk)
        if not self._sha256.startswith(ALEXNET_SHA256_PREFIX):
            raise ValueError(
                f"{trunk}: sha256 {self._sha256[:8]}... is not torchvision's AlexNet ({ALEXNET_SHA256_PREFIX}...)"
            )
        # pnet_rand: build the trunk without weights (no download); pretrained=False: load lins below
        with warnings.catch_warnings():  # torchvision's notice about lpips' legacy ``pretrained=``
            warnings.simplefilter("ignore", UserWarning)
            self.model = lpips.LPIPS(net="alex", pretrained=False, pnet_rand=True, verbose=False).eval()
        features = {
            k.removeprefix("features."): v
            for k, v in torch.load(trunk, map_location="cpu", weights_only=True).items()
        }
        # lpips splits AlexNet.features into slices that keep the original layer indices
        trunk_state = {name: features[name.split(".", 1)[1]] for name in self.model.net.state_dict()}
        load_exactly(self.model.net, trunk_state, trunk)
        lins = _lpips_linear_weights()
        load_exactly(
            self.model.lins,
            {
                k.removeprefix("lin"): v
                for k, v in torch.load(lins, map_location="cpu", weights_only=True).items()
            },
            lins,
        )
        self.model.requires_grad_(False)
        self.to(device)

    @classmethod
    def availability(cls) -> Availability:
        path = alexnet_weights_path()
        if path.is_file():
            return Availability(True, f"torchvision AlexNet weights {path}")
        return Availability(
            False, f"place torchvision's {ALEXNET_WEIGHTS} (AlexNet_Weights.IMAGENET1K_V1) in {path.parent}"
        )

    def provenance(self) -> dict[str, object]:
        return {
            **super().provenance(),
            "trunk_weights": str(alexnet_weights_path()),
            "trunk_sha256": self._sha256,
            "lpips": importlib.metadata.version("lpips"),
        }
