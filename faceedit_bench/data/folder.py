"""A folder of face images with an AU annotation file (registered as dataset ``image-folder``).

Layout, following GANimation's data folder (Pumarola et al., ECCV 2018)::

    root/imgs/*.jpg          (or the images directly in root/)
    root/aus_openface.pkl    (or any OpenFace / py-feat Fex CSV, see aus_io; or pass aus=)
    root/train_ids.csv       optional: one image name per line (GANimation's split files)
    root/test_ids.csv

Split rule: with ``split_file`` (or ``root/<split>_ids.csv``) the names in it; with no
split file, ``split="all"`` is every image and ``train``/``test`` are a deterministic
90/10 split by SHA-1 of the image name (ours). Folders carry no identity labels, so
such a split is by image, not by person: give split files for person-disjoint splits.

Images that cannot be read or show no face are skipped, counted in
:attr:`ImageFolderDataset.skipped` and reported in one warning (count and the first
few names with reasons; ``strict=True`` makes it an error); an empty folder, a missing
AU file, a name in the AU file with no image on disk, or no usable face at all are errors.

Pairs (recipe ``ganimation``): source = a random sample of the source part, target AUs =
the AUs of another random sample + U(-0.5, 0.5) per AU, clipped to 0-5 (GANimation's
U(-0.1, 0.1) on the /5 scale). No ground truth.

FID/KID reference (ours): edits are never compared with their own sources (an unchanged
face would score FID 0). With ``real=DIR`` the images of that folder (cropped the same
way, no AU file needed, none identical to a source) are the reference and every image
may be a source. Otherwise a held-out share (``reference_fraction``, default 0.5) of the
identities is the reference and never a source: identities come from ``identities=``
(or ``root/identities.csv``: ``name,identity`` lines), else each image is its own
identity; they are ordered by SHA-1 of their name and the first ones held out, so the
split does not depend on the seed. Each pair row gets one reference image: rows of the
first half from one half of the reference set, the rest from the other half (cycled
when the set is smaller), so the sampling floor's two halves are disjoint images.
:meth:`FolderPairSet.reference_set` describes the choice for results files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import torch

from faceedit_bench.api.aus import AU_MAX
from faceedit_bench.api.batch import PairBatch
from faceedit_bench.api.dataset import FaceDataset, FaceSample, PairSet
from faceedit_bench.data.aus_io import read_au_file
from faceedit_bench.data.crop import CROP_RULE
from faceedit_bench.data.folder_reference import (
    HeldOut,
    RealFolder,
    ReferenceSet,
    read_identities,
    reference_rows,
)
from faceedit_bench.data.images import ImageReadError, is_image_file, read_image

AU_FILE_NAMES = ("aus_openface.pkl", "aus.csv", "aus_openface.csv")
TARGET_JITTER = 0.5  # on the 0-5 scale
REFERENCE_FRACTION = 0.5  # ours: share of identities held out as the FID/KID reference


class ImageFolderDataset(FaceDataset):
    """Face images of one folder and split, cropped to ``resolution``, with their AUs.

    ``aus``: the AU file (default: the first of :data:`AU_FILE_NAMES` in ``root``).
    ``crop``: align by the ``eyes-mouth-v1`` rule (else centre square + resize).
    ``detector``: the landmark backend for cropping; only ``mediapipe`` (alias ``auto``)
    exists, the name is recorded so another backend can be added without a new key.
    ``real``: a folder of real face images held out as the FID/KID reference of pairs;
    without it ``reference_fraction`` of the identities (``identities``: a ``name,identity``
    CSV, default ``root/identities.csv``; else one identity per image) are held out.
    """

    def __init__(
        self,
        root: str | Path,
        aus: str | Path | None = None,
        split: str = "train",
        resolution: int = 128,
        split_file: str | Path | None = None,
        crop: bool = True,
        detector: str = "mediapipe",
        strict: bool = False,
        real: str | Path | None = None,
        reference_fraction: float = REFERENCE_FRACTION,
        identities: str | Path | None = None,
    ) -> None:
        self.root = Path(root)
        self.real = Path(real) if real is not None else None
        self.reference_fraction = float(reference_fraction)
        if not 0 < self.reference_fraction < 1:
            raise ValueError(f"image-folder: reference_fraction must be in (0, 1), got {reference_fraction}")
        self.resolution = int(resolution)
        self.split = split
        self.crop = crop
        if detector not in ("mediapipe", "auto"):  # landmarks for cropping come from MediaPipe only
            raise ValueError(f"image-folder: unknown landmark detector {detector!r}; known: mediapipe")
        image_dir = _image_dir(self.root)
        au_path = Path(aus) if aus is not None else _find_au_file(self.root)
        table = read_au_file(au_path)
        files = _match_files(image_dir, au_path, list(table))
        names = _split_names(self.root, split, split_file, list(files))
        self.skipped: dict[str, list[str]] = {"no_face": [], "unreadable": []}
        self._names: list[str] = []
        self._paths: list[Path] = []
        self._aus: list[torch.Tensor] = []
        self._hashes: list[str] = []
        self._load(names, files, table)
        self._identities = read_identities(self.root, identities, self._names)
        if not self._names:
            raise ValueError(
                f"{self.root}: no usable face images in split {split!r}; {self.skipped_summary()}"
            )
        if self.n_skipped and strict:
            raise ValueError(f"strict: {self.skipped_summary()}")
        if self.n_skipped:
            print(f"warning: {self.skipped_summary()} (pass strict=true / --strict to stop instead)")

    def _load(self, names: list[str], files: dict[str, Path], table: dict[str, torch.Tensor]) -> None:
        """Crop (or check) every image once, caching crops; keep only paths and hashes in memory."""
        from faceedit_bench.data.faces import FaceCropper
        from faceedit_bench.io import sha256_file

        self._cropper = FaceCropper() if self.crop else None
        for name in names:
            path = files[name]
            if self._cropper is not None:
                res = self._cropper.crop_file(path, self.resolution)
                if res.image is None:
                    self.skipped[res.reason].append(res.message)
                    continue
                digest = res.file_hash
            else:
                try:
                    read_image(path)
                except ImageReadError as err:
                    self.skipped["unreadable"].append(str(err))
                    continue
                digest = sha256_file(path)
            self._names.append(name)
            self._paths.append(path)
            self._aus.append(table[name])
            self._hashes.append(digest)

    def image(self, index: int) -> torch.Tensor:
        """The ``(3, res, res)`` image of sample ``index`` (from the crop cache when cropping)."""
        path = self._paths[index]
        if self._cropper is None:
            return _square_resize(read_image(path), self.resolution)
        hit = self._cropper.load_cached(self._hashes[index], self.resolution)
        if hit is not None:
            return hit
        res = self._cropper.crop_file(path, self.resolution)  # cache cleared meanwhile: recompute
        if res.image is None:
            raise ValueError(
                f"{res.message} (it had a face when the dataset was built; was the file replaced?)"
            )
        return res.image

    @property
    def n_skipped(self) -> int:
        return sum(len(v) for v in self.skipped.values())

    def skipped_summary(self, first: int = 3) -> str:
        """``root split: skipped k of n images (f without a face, u unreadable): first few with reasons``."""
        reasons = [m for kind in ("no_face", "unreadable") for m in self.skipped[kind]]
        more = f"; and {len(reasons) - first} more" if len(reasons) > first else ""
        return (
            f"{self.root} split {self.split!r}: skipped {self.n_skipped} of {self.n_skipped + len(self._names)} "
            f"images ({len(self.skipped['no_face'])} without a face, {len(self.skipped['unreadable'])} unreadable): "
            + "; ".join(reasons[:first])
            + more
        )

    def identity(self, index: int) -> str:
        """The person of sample ``index`` (from the identity file; else the image's own stem)."""
        name = self._names[index]
        return self._identities.get(name) or self._identities.get(Path(name).stem) or Path(name).stem

    @property
    def names(self) -> list[str]:
        return list(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def get(self, index: int) -> FaceSample:
        return FaceSample(
            image=self.image(index),
            aus=self._aus[index],
            identity_id=self.identity(index),
            sample_id=self._names[index],
        )

    def cache_key(self) -> str:
        h = hashlib.sha256()
        h.update(
            f"image-folder|{self.split}|{self.resolution}|{CROP_RULE if self.crop else 'resize'}".encode()
        )
        for name, digest, aus in zip(self._names, self._hashes, self._aus, strict=True):
            h.update(f"|{name}|{digest}|".encode())
            h.update(aus.numpy().tobytes())
        return f"image-folder-{self.split}-{self.resolution}-{h.hexdigest()[:16]}"

    def make_pairs(self, n_pairs: int, seed: int, recipe: str = "ganimation") -> PairSet:
        if recipe != "ganimation":
            raise ValueError(f"image-folder: unknown pair recipe {recipe!r}; known: ganimation")
        if len(self) < 2:
            raise ValueError(f"{self.root}: need at least 2 images for pairs, have {len(self)}")
        reference = self.reference_split()
        pool = torch.tensor(reference.sources)
        gen = torch.Generator().manual_seed(int(seed))
        src = pool[torch.randint(len(pool), (n_pairs,), generator=gen)]
        other = (src + torch.randint(1, len(self), (n_pairs,), generator=gen)) % len(self)
        aus = torch.stack(self._aus)
        target = aus[other].clone()
        target = torch.where(
            torch.isnan(target), aus[src], target
        )  # an AU unseen in the other: keep the source's
        target = torch.nan_to_num(target, nan=0.0)  # unseen in both: neutral (ours)
        target = (target + (torch.rand(target.shape, generator=gen) - 0.5) * 2 * TARGET_JITTER).clamp(
            0, AU_MAX
        )
        order = torch.randperm(reference.size, generator=gen).tolist()
        return FolderPairSet(self, src.tolist(), target, seed, reference, reference_rows(order, n_pairs))

    def reference_split(self) -> ReferenceSet:
        """The held-out real set FID/KID compare edits against, and the samples left as sources."""
        if self.real is not None:
            paths = sorted(p for p in _image_dir(self.real).iterdir() if is_image_file(p))
            return RealFolder(self.real, paths, self._load_any, self._cached, set(self._hashes), len(self))
        return HeldOut(self, self.reference_fraction)

    def _load_any(self, path: Path) -> torch.Tensor:
        """An image file prepared as the samples are (cropped, or squared); ValueError if unusable."""
        if self._cropper is None:
            try:
                return _square_resize(read_image(path), self.resolution)
            except ImageReadError as err:
                raise ValueError(str(err)) from None
        res = self._cropper.crop_file(path, self.resolution)
        if res.image is None:
            raise ValueError(res.message)
        return res.image

    def _cached(self, digest: str) -> torch.Tensor | None:
        return None if self._cropper is None else self._cropper.load_cached(digest, self.resolution)


class FolderPairSet(PairSet):
    """Edit requests on an image folder: no ground truth."""

    has_ground_truth = False

    real_side = "reference"  # FID/KID: a held-out real set, never the sources

    def __init__(
        self,
        dataset: ImageFolderDataset,
        sources: list[int],
        target_aus: torch.Tensor,
        seed: int,
        reference: ReferenceSet | None = None,
        rows: list[int] | None = None,
    ) -> None:
        self.dataset = dataset
        self.sources = sources
        self.target_aus = target_aus
        self.seed = seed
        self.reference = reference if reference is not None else dataset.reference_split()
        self.reference_rows = (  # reference image of each pair row
            rows if rows is not None else reference_rows(list(range(self.reference.size)), len(sources))
        )

    def __len__(self) -> int:
        return len(self.sources)

    def batch(self, indices: Sequence[int]) -> PairBatch:
        samples = [self.dataset.get(self.sources[int(i)]) for i in indices]
        return PairBatch(
            source=torch.stack([s.image for s in samples]),
            target_aus=self.target_aus[list(map(int, indices))],
            sample_ids=[f"{s.sample_id}#{int(i)}" for s, i in zip(samples, indices, strict=True)],
            source_aus=torch.stack([s.aus for s in samples]),
            identity_ids=[s.identity_id for s in samples],
            reference_image=torch.stack([self.reference.image(self.reference_rows[int(i)]) for i in indices]),
        )

    def reference_set(self) -> dict[str, object]:
        return {
            **self.reference.describe(),
            "n_used": len(set(self.reference_rows)),
            "rows": "first half of the pairs from one half of the set, the rest from the other",
        }

    def cache_key(self) -> str:
        return (
            f"{self.dataset.cache_key()}-pairs-ganimation-{len(self)}-{self.seed}"
            f"-ref-{self.reference.cache_key()}"
        )


def _image_dir(root: Path) -> Path:
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such image folder")
    sub = root / "imgs"
    folder = sub if sub.is_dir() else root
    if not any(is_image_file(p) for p in folder.iterdir()):
        raise ValueError(f"{folder}: empty folder (no .jpg/.png/... images)")
    return folder


def _find_au_file(root: Path) -> Path:
    for name in AU_FILE_NAMES:
        if (root / name).is_file():
            return root / name
    raise FileNotFoundError(
        f"{root}: no AU annotation file ({', '.join(AU_FILE_NAMES)}); create one with "
        f"`faceedit-bench annotate {root} --out {root / 'aus.csv'}` or pass aus="
    )


def _match_files(image_dir: Path, au_path: Path, names: list[str]) -> dict[str, Path]:
    """AU-file name -> image path (exact file name, or a stem plus any image extension)."""
    by_name = {p.name: p for p in image_dir.iterdir() if is_image_file(p)}
    by_stem: dict[str, Path] = {}
    for p in by_name.values():
        by_stem.setdefault(p.stem, p)
    files: dict[str, Path] = {}
    missing = []
    for name in names:
        path = by_name.get(name) or by_stem.get(name) or by_stem.get(Path(name).stem)
        if path is None:
            missing.append(name)
        else:
            files[name] = path
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise FileNotFoundError(
            f"{au_path}: names images missing from {image_dir}: {', '.join(missing[:5])}{more}"
        )
    return files


def _split_names(root: Path, split: str, split_file: str | Path | None, names: list[str]) -> list[str]:
    path = Path(split_file) if split_file is not None else root / f"{split}_ids.csv"
    if split_file is not None or (split != "all" and path.is_file()):
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such split file")
        wanted = [line.strip().split(",")[0] for line in path.read_text().splitlines() if line.strip()]
        lookup = {n: n for n in names} | {Path(n).stem: n for n in names}
        unknown = [w for w in wanted if w not in lookup and Path(w).stem not in lookup]
        if unknown:
            raise ValueError(
                f"{path}: {len(unknown)} names have no AU annotation, e.g. {', '.join(unknown[:3])}"
            )
        return [lookup.get(w) or lookup[Path(w).stem] for w in wanted]
    if split == "all":
        return sorted(names)
    if split not in ("train", "test"):
        raise ValueError(f"image-folder: unknown split {split!r}; known: train, test, all")
    in_test = {n: int(hashlib.sha1(n.encode()).hexdigest(), 16) % 10 == 0 for n in names}
    chosen = sorted(n for n in names if in_test[n] == (split == "test"))
    if not chosen:
        raise ValueError(
            f"{root}: split {split!r} is empty under the 90/10 name-hash split of {len(names)} images; "
            "use split='all' or give a split file"
        )
    return chosen


def _square_resize(image: torch.Tensor, resolution: int) -> torch.Tensor:
    """Centre square crop then area resize (used when ``crop=False``)."""
    _, h, w = image.shape
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = image[:, top : top + side, left : left + side][None]
    return torch.nn.functional.interpolate(square, size=resolution, mode="area")[0].clamp(0, 1)
