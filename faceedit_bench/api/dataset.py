"""Dataset contracts: annotated face images for training, and pair sets for evaluation."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from faceedit_bench.api.batch import ImageBatch, PairBatch


@dataclass
class FaceSample:
    image: torch.Tensor  # (3, H, W) float32 in [0, 1]
    aus: torch.Tensor  # (17,) 0-5, NaN where not annotated
    identity_id: str
    sample_id: str


class FaceDataset(ABC):
    """Annotated face images of one split at one resolution."""

    resolution: int

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def get(self, index: int) -> FaceSample: ...

    def get_batch(self, indices: Sequence[int]) -> ImageBatch:
        samples = [self.get(int(i)) for i in indices]
        return ImageBatch(
            images=torch.stack([s.image for s in samples]),
            aus=torch.stack([s.aus for s in samples]),
            identity_ids=[s.identity_id for s in samples],
        )

    def same_identity_partners(self, indices: Sequence[int], generator: torch.Generator) -> list[int]:
        """For each index, a random index of an image of the same person (itself allowed).

        Only training with ``lambda_pair`` asks for them; datasets that know which images
        show one person (AU-rig identities, the frames of one video) override this.
        """
        raise ValueError(
            f"dataset {type(self).__name__} cannot draw same-identity partners, which the "
            "loss weight lambda_pair needs; train without it or on a dataset that has them (aurig, video)"
        )

    @abstractmethod
    def cache_key(self) -> str:
        """Stable description of exactly these images (for on-disk caches)."""

    @abstractmethod
    def make_pairs(self, n_pairs: int, seed: int, recipe: str = "ganimation") -> PairSet:
        """The edit requests of an evaluation protocol on this split."""


class PairSet(ABC):
    """A fixed, indexable list of edit requests (with ground truth when the data has it)."""

    has_ground_truth: bool = False

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def batch(self, indices: Sequence[int]) -> PairBatch: ...

    @abstractmethod
    def cache_key(self) -> str: ...

    def true_edits(self, indices: Sequence[int], target_aus: torch.Tensor) -> torch.Tensor | None:
        """The true images of these pairs' sources showing ``target_aus`` instead of their targets.

        Only data that can make them (a renderer) returns images; the default is None.
        Figures use them to show what an AU sweep should look like.
        """
        return None

    @property
    def real_side(self) -> str:
        """The side FID/KID compare edits against: ``reference`` (a held-out real set, its
        batches carry ``reference_image``), else ``target`` (true targets), else ``source``."""
        return "target" if self.has_ground_truth else "source"

    def reference_set(self) -> dict[str, object]:
        """What FID/KID compare against, for results files: ``kind``, ``n_images``, ``chosen``."""
        kind = "targets" if self.has_ground_truth else "sources"
        chosen = (
            "the true target images of the pairs"
            if self.has_ground_truth
            else "the pairs' own source images (FID/KID of an unchanged face is 0)"
        )
        return {"kind": kind, "n_images": None, "chosen": chosen}

    def reference_images(self, indices: Sequence[int]) -> torch.Tensor:
        """Real images that FID/KID compare edits against (a held-out set, the true targets, or the sources)."""
        b = self.batch(indices)
        for images in (b.reference_image, b.target_image):
            if images is not None:
                return images
        return b.source
