"""The editor contract: ``edit(images, target_aus) -> EditOutput``."""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import torch

from faceedit_bench.api.batch import PairBatch


@dataclass
class EditOutput:
    """Edited images plus what an editor can expose about how it edited.

    ``images``: ``(N, 3, H, W)`` in ``[0, 1]``. ``flow``: backward sampling grid
    ``(N, H, W, 2)`` as in :class:`PairBatch`. ``mask``: attention on the input
    ``(N, 1, H, W)`` (1 = keep the warped input). ``warped``: the image after the
    motion step, before texture.
    """

    images: torch.Tensor
    flow: torch.Tensor | None = None
    mask: torch.Tensor | None = None
    warped: torch.Tensor | None = None


class Editor(ABC):
    """An AU-conditioned expression editor. AUs are on the 0-5 scale."""

    needs_ground_truth: ClassVar[bool] = False  # True only for the oracle bound
    is_reference: ClassVar[bool] = False  # identity/oracle: bounds, not systems
    free_edits: ClassVar[bool] = True  # False: can only answer a protocol's own pairs (oracle, replay)

    name: str = "editor"

    @abstractmethod
    def edit(self, images: torch.Tensor, target_aus: torch.Tensor) -> EditOutput:
        """Edit ``images`` so they show ``target_aus``."""

    def edit_batch(self, batch: PairBatch) -> EditOutput:
        """Harness entry point; reference editors may read ground truth here."""
        return self.edit(batch.source, batch.target_aus)

    def to(self, device: torch.device | str) -> Editor:
        return self

    def describe(self) -> dict[str, object]:
        """Provenance recorded in results (checkpoint, config, ...)."""
        return {"class": f"{type(self).__module__}.{type(self).__qualname__}"}


class EditorLoadError(RuntimeError):
    """A trained editor has no checkpoint for the requested setting."""


def create_editor(
    cls: type[Editor],
    *,
    checkpoint: str | None,
    resolution: int,
    device: str,
    checkpoint_set: str | None = None,
) -> Editor:
    """Build a registered editor class: ``cls.create(...)`` when it defines one.

    ``checkpoint_set`` (the protocol's shipped checkpoint set, e.g. ``video-64``) is
    passed to factories that take it; without it they use their own default.
    """
    factory = getattr(cls, "create", None)
    if factory is None:
        return cls()
    kwargs: dict[str, object] = {"checkpoint": checkpoint, "resolution": resolution, "device": device}
    params = inspect.signature(factory).parameters.values()
    if checkpoint_set is not None and any(
        p.name == "checkpoint_set" or p.kind is inspect.Parameter.VAR_KEYWORD for p in params
    ):
        kwargs["checkpoint_set"] = checkpoint_set
    return factory(**kwargs)
