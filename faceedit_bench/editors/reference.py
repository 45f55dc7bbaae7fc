"""Reference editors that bound every table: ``identity`` (lower) and ``oracle`` (upper)."""

from __future__ import annotations

from typing import ClassVar

import torch

from faceedit_bench.api.batch import PairBatch
from faceedit_bench.api.editor import Editor, EditOutput


class IdentityEditor(Editor):
    """Returns the input unchanged: what "no edit" scores."""

    is_reference: ClassVar[bool] = True
    name = "identity"

    def edit(self, images: torch.Tensor, target_aus: torch.Tensor) -> EditOutput:
        n, _, h, w = images.shape
        ys = torch.linspace(-1 + 1 / h, 1 - 1 / h, h, device=images.device)
        xs = torch.linspace(-1 + 1 / w, 1 - 1 / w, w, device=images.device)
        grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
        identity_grid = torch.stack([grid_x, grid_y], dim=-1).expand(n, h, w, 2)
        return EditOutput(images=images.clone(), flow=identity_grid.clone())


class OracleEditor(Editor):
    """Returns the true target image: the best any editor can score (needs ground truth)."""

    is_reference: ClassVar[bool] = True
    needs_ground_truth: ClassVar[bool] = True
    free_edits: ClassVar[bool] = False
    name = "oracle"

    def edit(self, images: torch.Tensor, target_aus: torch.Tensor) -> EditOutput:
        raise RuntimeError("the oracle editor needs ground truth: it only runs through edit_batch")

    def edit_batch(self, batch: PairBatch) -> EditOutput:
        if batch.target_image is None:
            raise RuntimeError("the oracle editor needs a protocol with ground-truth target images")
        flow = batch.flow.clone() if batch.flow is not None else None
        return EditOutput(images=batch.target_image.clone(), flow=flow)
