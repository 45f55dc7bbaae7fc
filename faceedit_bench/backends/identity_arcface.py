"""ArcFace r50 identity judge (label ``arcface-r50``) from user-given or py-feat-cached weights.

ArcFace (Deng et al., CVPR 2019), the InsightFace ``w600k_r50`` recognition model:
a 112x112 face aligned by a similarity transform of five landmarks onto
InsightFace's ``arcface_dst`` template, pixels mapped to ``[-1, 1]``, a 512-d
embedding. Weights, first found wins (nothing is downloaded):

1. ``$FACEEDIT_BENCH_ARCFACE_WEIGHTS``: an InsightFace ONNX file (run with
   ``onnxruntime``) or py-feat's ``arcface_r50.safetensors`` / a torch state dict
   for ``feat``'s IResNet-50;
2. py-feat's HF cache (``feat/resources``, repo ``py-feat/arcface_r50``).

Landmarks come from the offline MediaPipe FaceLandmarker; no face -> a NaN row.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from faceedit_bench.api.backends import Availability, IdentityModel
from faceedit_bench.data.images import check_batch
from faceedit_bench.paths import user_weights
from faceedit_bench.safe_load import load_tensors

ENV_VAR = "FACEEDIT_BENCH_ARCFACE_WEIGHTS"
# InsightFace's arcface_dst: right eye, left eye, nose, mouth right, mouth left (112x112).
ARCFACE_TEMPLATE = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]]
)
SIZE = 112


def _weights_path() -> Path | None:
    path = user_weights(ENV_VAR)
    if path is not None:
        return path
    if importlib.util.find_spec("feat") is None:
        return None
    from faceedit_bench.backends.au_pyfeat import find_cached

    return find_cached("py-feat/arcface_r50", ("arcface_r50.safetensors",))


class ArcFaceIdentity(IdentityModel):
    """512-d ArcFace embeddings, L2-normalised (InsightFace's usual match threshold)."""

    label: ClassVar[str] = "arcface-r50"
    output_width: ClassVar[int] = 512
    threshold: ClassVar[float] = 0.28  # ours: cosine ~0.28 is a common w600k_r50 verification cut-off
    threshold_rule: ClassVar[str] = (
        "fixed cosine 0.28, ours: a common verification cut-off for InsightFace's w600k_r50, not measured here"
    )

    def __init__(self) -> None:
        path = _weights_path()
        if path is None:
            raise FileNotFoundError(self.availability().reason)
        from faceedit_bench.backends.au_mediapipe import MediaPipeAUDetector

        self._path = path
        self._run = _onnx_runner(path) if path.suffix == ".onnx" else _torch_runner(path)
        self._landmarks = MediaPipeAUDetector()

    @classmethod
    def availability(cls) -> Availability:
        try:
            path = _weights_path()
        except FileNotFoundError as err:
            return Availability(False, str(err))
        if path is None:
            return Availability(
                False,
                f"no ArcFace weights: set {ENV_VAR} to InsightFace's w600k_r50.onnx (needs onnxruntime) "
                "or py-feat's arcface_r50.safetensors, or place py-feat/arcface_r50 in py-feat's HF cache",
            )
        if path.suffix == ".onnx" and importlib.util.find_spec("onnxruntime") is None:
            return Availability(False, f"{path} is ONNX but onnxruntime is not installed")
        return Availability(True, f"ArcFace weights {path}")

    def provenance(self) -> dict[str, object]:
        from faceedit_bench.io import sha256_file

        return {**super().provenance(), "weights": str(self._path), "sha256": sha256_file(self._path)}

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` in ``[0, 1]`` -> ``(N, 512)`` unit vectors; NaN row = no face."""
        import cv2

        from faceedit_bench.backends.au_mediapipe import five_points
        from faceedit_bench.data.crop import similarity_matrix

        check_batch(images, "ArcFaceIdentity")
        meshes = self._landmarks.landmarks(images)
        crops, found = [], []
        for i in range(images.shape[0]):
            if not torch.isfinite(meshes[i]).all():
                continue
            m = similarity_matrix(five_points(meshes[i].numpy()), ARCFACE_TEMPLATE)
            arr = images[i].detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()
            crops.append(cv2.warpAffine(arr, m, (SIZE, SIZE), flags=cv2.INTER_LINEAR))
            found.append(i)
        out = torch.full((images.shape[0], 512), float("nan"))
        if crops:
            x = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2) * 2.0 - 1.0
            emb = torch.as_tensor(self._run(x.float())).float()
            out[found] = torch.nn.functional.normalize(emb, dim=1)
        return out


def _onnx_runner(path: Path):  # -> Callable[[Tensor], ndarray]
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda x: session.run(None, {name: x.numpy()})[0]


def _torch_runner(path: Path):  # -> Callable[[Tensor], Tensor]
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(path))
    else:
        state = load_tensors(path, "ArcFace weights")
    fc = state.get("fc.weight") if isinstance(state, dict) else None
    if "conv1.weight" not in state or fc is None or tuple(fc.shape) != (512, 25088):
        raise ValueError(
            f"{path}: not an ArcFace IResNet-50 state dict (needs conv1.weight and fc.weight 512x25088)"
        )
    from feat.identity_detectors.arcface.iresnet import iresnet50

    net = iresnet50()
    try:
        missing, unexpected = net.load_state_dict(state, strict=False)
    except RuntimeError as err:
        raise ValueError(f"{path}: not an ArcFace IResNet-50 state dict ({err})") from None
    if [k for k in missing if "num_batches_tracked" not in k] or unexpected:
        raise ValueError(
            f"{path}: not an ArcFace IResNet-50 state dict (missing {missing[:3]}, unexpected {unexpected[:3]})"
        )
    net.eval()

    def run(x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return net(x)

    return run
