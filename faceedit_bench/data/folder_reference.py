"""The FID/KID reference set of an image folder's pairs: held-out identities or another folder.

See :mod:`faceedit_bench.data.folder` (module doc, "FID/KID reference"): edits are never
compared with their own sources.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import torch

IDENTITY_FILE = "identities.csv"  # optional in an image folder: name,identity lines


class _Folder(Protocol):
    """What :class:`HeldOut` reads of an image-folder dataset."""

    root: Path

    @property
    def names(self) -> list[str]: ...

    def __len__(self) -> int: ...

    def identity(self, index: int) -> str: ...

    def image(self, index: int) -> torch.Tensor: ...


def reference_rows(order: list[int], n_pairs: int) -> list[int]:
    """Reference image of each pair row: rows ``< n_pairs // 2`` from the first half of ``order``,
    the others from the second half (cycled), so the sampling floor's halves share no image."""
    half = n_pairs // 2
    first, second = order[: len(order) // 2] or order, order[len(order) // 2 :]
    return [first[i % len(first)] if i < half else second[(i - half) % len(second)] for i in range(n_pairs)]


class ReferenceSet(ABC):
    """Real images held out from the sources of an image folder's pairs (FID/KID compare against them)."""

    sources: list[int]  # dataset samples that may be sources

    @property
    @abstractmethod
    def size(self) -> int: ...

    @abstractmethod
    def image(self, k: int) -> torch.Tensor: ...

    @abstractmethod
    def describe(self) -> dict[str, object]: ...

    @abstractmethod
    def cache_key(self) -> str: ...


class HeldOut(ReferenceSet):
    """``fraction`` of the dataset's identities, by SHA-1 of the identity name (no seed)."""

    def __init__(self, dataset: _Folder, fraction: float) -> None:
        self.dataset, self.fraction = dataset, fraction
        people = sorted({dataset.identity(i) for i in range(len(dataset))}, key=lambda p: (_sha1(p), p))
        self.by_identity = any(dataset.identity(i) != Path(n).stem for i, n in enumerate(dataset.names))
        if len(people) < 2:
            raise ValueError(
                f"{dataset.root}: {len(people)} identity; holding out a real reference set for FID/KID needs "
                "at least 2 (sources and reference are disjoint); add images or give real=DIR"
            )
        held = set(people[: min(len(people) - 1, max(1, round(fraction * len(people))))])
        self.members = [i for i in range(len(dataset)) if dataset.identity(i) in held]
        self.sources = [i for i in range(len(dataset)) if dataset.identity(i) not in held]
        self.n_identities = (len(held), len(people))

    @property
    def size(self) -> int:
        return len(self.members)

    def image(self, k: int) -> torch.Tensor:
        return self.dataset.image(self.members[k])

    def describe(self) -> dict[str, object]:
        unit = "identities" if self.by_identity else "images (no identity labels: one identity per image)"
        held, total = self.n_identities
        return {
            "kind": "held-out",
            "n_images": self.size,
            "n_sources": len(self.sources),
            "chosen": f"{held} of {total} {unit} held out ({self.fraction:g}, by SHA-1 of the name); "
            "never a source",
            "names": [self.dataset.names[i] for i in self.members],
        }

    def cache_key(self) -> str:
        names = "|".join(self.dataset.names[i] for i in self.members)
        return f"held-{self.fraction:g}-{hashlib.sha256(names.encode()).hexdigest()[:12]}"


class RealFolder(ReferenceSet):
    """The face images of another folder (``real=DIR``), cropped as the dataset's; none a source file."""

    def __init__(
        self,
        root: Path,
        paths: list[Path],
        load: Callable[[Path], torch.Tensor],
        cached: Callable[[str], torch.Tensor | None],
        source_hashes: set[str],
        n_sources: int,
    ) -> None:
        """``load(path)``: the crop of an image (ValueError when unusable); ``cached(sha256)``:
        its crop from the cache, or None."""
        from faceedit_bench.io import sha256_file

        self.root, self._load, self._cached = root, load, cached
        self.paths: list[Path] = []
        self.hashes: list[str] = []
        skipped: list[str] = []
        shared = []
        for path in paths:
            digest = sha256_file(path)
            if digest in source_hashes:
                shared.append(path.name)
                continue
            try:
                load(path)
            except ValueError as err:
                skipped.append(str(err))
                continue
            self.paths.append(path)
            self.hashes.append(digest)
        if shared:
            raise ValueError(
                f"real={root}: {len(shared)} image(s) are also source images ({', '.join(shared[:3])}); "
                "the reference set must be disjoint from the sources"
            )
        if len(self.paths) < 2:
            raise ValueError(f"real={root}: {len(self.paths)} usable face images; FID/KID need at least 2")
        if skipped:
            print(f"warning: real={root}: skipped {len(skipped)} image(s): " + "; ".join(skipped[:3]))
        self.sources = list(range(n_sources))  # every dataset sample may be a source

    @property
    def size(self) -> int:
        return len(self.paths)

    def image(self, k: int) -> torch.Tensor:
        hit = self._cached(self.hashes[k])
        return hit if hit is not None else self._load(self.paths[k])

    def describe(self) -> dict[str, object]:
        return {
            "kind": "folder",
            "n_images": self.size,
            "chosen": f"every face image of {self.root} (real=DIR), none identical to a source",
            "root": str(self.root),
        }

    def cache_key(self) -> str:
        return f"real-{hashlib.sha256('|'.join(self.hashes).encode()).hexdigest()[:12]}"


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def read_identities(root: Path, identities: str | Path | None, names: list[str]) -> dict[str, str]:
    """Image name (or stem) -> identity from a ``name,identity`` CSV (a header line is skipped)."""
    path = Path(identities) if identities is not None else root / IDENTITY_FILE
    if identities is None and not path.is_file():
        return {}
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such identity file")
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 2 or not parts[0] or parts[:2] == ["name", "identity"]:
            continue
        out[parts[0]] = parts[1]
    unlabelled = [n for n in names if n not in out and Path(n).stem not in out]
    if unlabelled:
        raise ValueError(
            f"{path}: no identity for {len(unlabelled)} image(s), e.g. {', '.join(unlabelled[:3])}"
        )
    return out
