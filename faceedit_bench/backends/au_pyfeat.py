"""py-feat AU detector (label ``pyfeat-xgb``): ``Detectorv1(au_model="xgb")`` from the HF cache.

Follows py-feat 2.1.5's ``feat.detector.Detectorv1`` (Cheong et al., "Py-Feat:
Python Facial Expression Analysis Toolbox", 2023): RetinaFace-R34 face detector,
MobileFaceNet 68 landmarks, HOG + PCA features and one XGBoost classifier per AU.
py-feat downloads its weights with ``hf_hub_download(..., cache_dir=feat/resources)``;
here nothing is downloaded: ``HF_HUB_OFFLINE=1`` is set before loading, and
:meth:`PyFeatAUDetector.availability` checks that cache (and ``$HF_HOME``'s) for
the files below without network access.

py-feat loads its AU model with ``skops.io.load(path, trusted=get_untrusted_types(file=path))``,
trusting every type the file names, so a file planted in its weights cache would run code
when the backend loads. Before py-feat opens it, :func:`verify_au_model` checks the file's
sha256 against the value published for it (the Git-LFS pointer of ``py-feat/xgb_au`` at
the revision below); a file without a pinned value or with another hash is refused with
an error naming it, and nothing is loaded. ``$FACEEDIT_BENCH_PYFEAT_AU_SHA256`` pins
another file the user has checked themselves.

AU mapping: py-feat's xgb model outputs AU01 02 04 05 06 07 09 10 11 12 14 15 17 20
23 24 25 26 28 43; those in our vocabulary are taken by name, AU45 (blink) is not
among them and stays NaN (AU43 "eyes closed" is a different unit). The xgb outputs
are per-AU *probabilities of presence* in ``[0, 1]``, not intensities; we multiply
by 5 to put them on the 0-5 axis (ours). They are comparable across editors under
this one backend, not with OpenFace intensities.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

import torch

from faceedit_bench.api.aus import AU_MAX, AU_NAMES, N_AUS
from faceedit_bench.api.backends import AUDetector, Availability
from faceedit_bench.data.images import check_batch
from faceedit_bench.io import sha256_file
from faceedit_bench.paths import package_dirs
from faceedit_bench.safe_load import UnsafeOrBrokenFile

# (repo_id, [filename, fallback filename]) that Detectorv1(au_model="xgb") loads.
REQUIRED_FILES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("py-feat/retinaface_r34", ("model.safetensors", "retinaface_r34.safetensors")),
    ("py-feat/mobilefacenet", ("mobilefacenet_model_best.pth.tar",)),
    ("py-feat/xgb_au", ("xgb_au_classifier_v2.skops", "xgb_au_classifier.skops")),
)

AU_MODEL_REPO = "py-feat/xgb_au"
# sha256 of the published AU model files (Git-LFS pointers of py-feat/xgb_au at revision
# e81d0d6b0dd2b0d66e89fbf95a635101aae18a9a). The v1 fallback, xgb_au_classifier.skops, has no
# pinned value here: it is refused unless the user pins it through AU_MODEL_SHA256_ENV.
AU_MODEL_SHA256: dict[str, str] = {
    "xgb_au_classifier_v2.skops": "d21a2a4977fce0924c557835d17414ac588e30b68248549244313ebfd3864881",
}
AU_MODEL_SHA256_ENV = "FACEEDIT_BENCH_PYFEAT_AU_SHA256"


def verify_au_model(path: Path) -> str:
    """The sha256 of py-feat's AU model ``path`` when it is the published file; else a named error.

    Runs before py-feat opens the file (it would trust every type a ``.skops`` file names).
    Raises :class:`UnsafeOrBrokenFile` naming the file and what is wrong with it.
    """
    path = Path(path)
    user_pin = os.environ.get(AU_MODEL_SHA256_ENV, "").strip().lower()
    expected = user_pin or AU_MODEL_SHA256.get(path.name)
    if not path.is_file():
        raise UnsafeOrBrokenFile(f"py-feat AU model {path} does not exist")
    if expected is None:
        raise UnsafeOrBrokenFile(
            f"py-feat AU model {path}: no published sha256 is pinned for {path.name!r} (pinned: "
            f"{', '.join(AU_MODEL_SHA256)}), and py-feat would load it trusting every type it names; not "
            f"loaded. Place {next(iter(AU_MODEL_SHA256))} from {AU_MODEL_REPO} in the cache, or set "
            f"{AU_MODEL_SHA256_ENV} to the sha256 of this file if you have checked it yourself"
        )
    actual = sha256_file(path)
    if actual != expected:
        source = f"${AU_MODEL_SHA256_ENV}" if user_pin else f"the value published for {AU_MODEL_REPO}"
        raise UnsafeOrBrokenFile(
            f"py-feat AU model {path}: sha256 {actual} is not {expected} ({source}); the file is damaged "
            "or was replaced, and py-feat would load it trusting every type it names, so it is not loaded. "
            f"Delete it and download {path.name} from {AU_MODEL_REPO} again"
        )
    return actual


def au_model_path() -> Path | None:
    """The AU model file py-feat will open: the first of its names in py-feat's cache, else the default one."""
    from huggingface_hub import try_to_load_from_cache

    (names,) = [names for repo, names in REQUIRED_FILES if repo == AU_MODEL_REPO]
    root = pyfeat_resource_dir()
    for name in names:  # hf_hub_download_with_fallback(cache_dir=feat/resources): v2, then v1
        hit = try_to_load_from_cache(AU_MODEL_REPO, name, cache_dir=str(root)) if root else None
        if isinstance(hit, str) and Path(hit).is_file():
            return Path(hit)
    return find_cached(AU_MODEL_REPO, names)


def pyfeat_resource_dir() -> Path | None:
    """``feat/resources``: the ``cache_dir`` py-feat passes to ``hf_hub_download``."""
    dirs = package_dirs("feat")
    return dirs[0] / "resources" if dirs else None


def find_cached(repo_id: str, filenames: tuple[str, ...]) -> Path | None:
    """The first of ``filenames`` present in py-feat's or the default HF cache (no network)."""
    from huggingface_hub import try_to_load_from_cache

    roots = [pyfeat_resource_dir(), None]  # None: huggingface_hub's default cache
    for root in roots:
        for name in filenames:
            hit = try_to_load_from_cache(repo_id, name, cache_dir=str(root) if root else None)
            if isinstance(hit, str) and Path(hit).is_file():
                return Path(hit)
    return None


class PyFeatAUDetector(AUDetector):
    """py-feat's XGBoost AU model; AU45 is NaN; probabilities scaled to 0-5."""

    label: ClassVar[str] = "pyfeat-xgb"
    measured_aus: ClassVar[tuple[str, ...]] = tuple(au for au in AU_NAMES if au != "AU45")

    def __init__(self, device: str = "cpu") -> None:
        usable = self.availability()
        if not usable.usable:
            raise FileNotFoundError(usable.reason)
        _force_offline()
        au_model = au_model_path()
        if au_model is None:
            raise FileNotFoundError(f"py-feat AU model of {AU_MODEL_REPO} not found in its cache")
        self._au_model_sha256 = verify_au_model(au_model)  # before py-feat opens it (below)
        from feat import Detectorv1

        self._weights = [str(find_cached(repo, names)) for repo, names in REQUIRED_FILES]
        self._detector = Detectorv1(
            face_model="retinaface",
            landmark_model="mobilefacenet",
            au_model="xgb",
            emotion_model=None,
            identity_model=None,
            gaze_model=None,
            device=device,
        )

    @classmethod
    def availability(cls) -> Availability:
        if pyfeat_resource_dir() is None:
            return Availability(False, "py-feat is not installed (pip install py-feat==2.1.5)")
        missing = [f"{repo}/{names[0]}" for repo, names in REQUIRED_FILES if find_cached(repo, names) is None]
        if missing:
            return Availability(
                False,
                f"py-feat weights not in the HF cache {pyfeat_resource_dir()}: missing "
                f"{', '.join(missing)}. On a machine with internet run "
                '`python -c "from feat import Detectorv1; Detectorv1(emotion_model=None, '
                'identity_model=None, gaze_model=None)"` and copy feat/resources/models--py-feat--* here',
            )
        return Availability(True, f"py-feat xgb AU model from {pyfeat_resource_dir()}")

    def provenance(self) -> dict[str, object]:
        import feat

        return {
            **super().provenance(),
            "weights": self._weights,
            "au_model_sha256": self._au_model_sha256,
            "py-feat": feat.__version__,
        }

    def detect(self, images: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` in ``[0, 1]`` -> ``(N, 17)``; the most confident face per image."""
        check_batch(images, "PyFeatAUDetector")
        n = images.shape[0]
        fex = self._detector.detect(
            images.detach().float().cpu().clamp(0, 1) * 255.0,
            data_type="tensor",
            batch_size=max(1, min(n, 8)),
            progress_bar=False,
        )
        return fex_rows_to_aus(fex, n)


def _force_offline() -> None:
    """Make ``hf_hub_download`` use only the cache, even if huggingface_hub is already imported."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    import huggingface_hub.constants as hf_constants

    hf_constants.HF_HUB_OFFLINE = True


def fex_rows_to_aus(fex: object, n_frames: int) -> torch.Tensor:
    """A py-feat Fex/DataFrame (``frame``, ``FaceScore``, ``AUxx`` columns) -> ``(n_frames, 17)``."""
    import pandas as pd

    df = pd.DataFrame(fex)
    out = torch.full((n_frames, N_AUS), float("nan"))
    cols = [(i, au) for i, au in enumerate(AU_NAMES) if au in df.columns]
    for frame, rows in df.groupby("frame"):
        rows = rows.dropna(subset=["FaceScore"])
        if rows.empty or not 0 <= int(frame) < n_frames:
            continue
        best = rows.loc[rows["FaceScore"].idxmax()]
        for i, au in cols:
            out[int(frame), i] = float(best[au]) * AU_MAX
    return out.clamp(0, AU_MAX)
