"""Edit a batch so that one bad sample costs only itself, and a failure costs the most.

An editor that raises on a batch (an external system's unreadable, missing or
wrong-size image; a model that returns the wrong shape, dtype or scale) is retried
sample by sample: the samples that work are scored, the others become named,
counted failures. Every output passes the guard of :func:`checked` first: floating
point, the batch's shape, finite, and inside [0, 1] up to :data:`RANGE_TOL` (an
editor that returns 0-255 values fails every sample instead of topping a column).

A failed sample is never dropped: :func:`with_failures` puts a stand-in in its row
that every metric scores at or near its worst: the image farthest from the reference
(each pixel at the end of [0, 1] away from the true target, or the source without
one), a flow mirrored through the image centre, and (in the pass) no face for any
judge. So n is the protocol's for every editor and paired tests run on all pairs.
"""

from __future__ import annotations

from dataclasses import fields, replace

import torch

from faceedit_bench.api.batch import PairBatch
from faceedit_bench.api.editor import Editor, EditOutput


def subset(batch: PairBatch, rows: list[int]) -> PairBatch:
    """The batch restricted to ``rows`` (tensors and per-sample lists alike)."""
    picked: dict[str, object] = {}
    for f in fields(batch):
        value = getattr(batch, f.name)
        if isinstance(value, torch.Tensor):
            picked[f.name] = value[rows]
        elif isinstance(value, list) and value:
            picked[f.name] = [value[r] for r in rows]
    return replace(batch, **picked)


RANGE_TOL = 1e-3  # float rounding of an output in [0, 1]; a quarter of one 8-bit level


def checked(out: EditOutput, batch: PairBatch) -> EditOutput:
    """``out`` (images clamped to [0, 1]) if it passes the output guard, else a ValueError saying why."""
    images = out.images
    if not isinstance(images, torch.Tensor):
        raise ValueError(f"edited images are a {type(images).__name__}, expected a torch.Tensor")
    if not images.is_floating_point():
        raise ValueError(f"edited images have dtype {images.dtype}, expected floating point in [0, 1]")
    want = tuple(batch.source.shape)
    got = tuple(images.shape)
    if got != want:
        raise ValueError(f"edited images have shape {got}, expected {want}")
    if not torch.isfinite(images).all():
        raise ValueError("edited images contain NaN or infinite values")
    low, high = float(images.min()), float(images.max())
    if low < -RANGE_TOL or high > 1 + RANGE_TOL:
        raise ValueError(
            f"edited images span [{low:.4g}, {high:.4g}], outside [0, 1] (a 0-255 or [-1, 1] scale?)"
        )
    return replace(out, images=images.clamp(0, 1))


def far_image(batch: PairBatch) -> torch.Tensor:
    """The image farthest from the reference in every pixel: what a failed sample is scored as."""
    ref = batch.target_image if batch.target_image is not None else batch.source
    return (ref.float() < 0.5).to(batch.source.dtype)


def with_failures(out: EditOutput | None, rows: list[int], batch: PairBatch) -> EditOutput:
    """A full-batch output: ``out``'s rows at ``rows``, the failure stand-in everywhere else."""
    far = far_image(batch)
    if out is None:
        return EditOutput(images=far)
    idx = torch.tensor(rows, dtype=torch.long, device=far.device)

    def fill(part: torch.Tensor | None, stand_in: torch.Tensor | None) -> torch.Tensor | None:
        if part is None or stand_in is None:
            return None
        full = stand_in.to(part.dtype).clone()
        full[idx] = part.to(full.device)
        return full

    def zeros(part: torch.Tensor | None) -> torch.Tensor | None:
        return None if part is None else torch.zeros(len(batch), *part.shape[1:])

    mirrored = -batch.flow if batch.flow is not None else zeros(out.flow)
    flow, mask = fill(out.flow, mirrored), fill(out.mask, zeros(out.mask))
    return EditOutput(images=fill(out.images, far), flow=flow, mask=mask, warped=fill(out.warped, far))  # type: ignore[arg-type]


def reason(err: BaseException) -> str:
    text = str(err).splitlines()[0] if str(err) else ""
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _cat(outputs: list[EditOutput]) -> EditOutput:
    def cat(name: str) -> torch.Tensor | None:
        parts = [getattr(o, name) for o in outputs]
        return None if any(p is None for p in parts) else torch.cat(parts)

    return EditOutput(images=cat("images"), flow=cat("flow"), mask=cat("mask"), warped=cat("warped"))  # type: ignore[arg-type]


def edit_rows(editor: Editor, batch: PairBatch) -> tuple[EditOutput | None, list[int], dict[int, str]]:
    """``(output for the edited rows, edited rows, {failed row: reason})`` for one batch."""
    try:
        with torch.no_grad():
            return checked(editor.edit_batch(batch), batch), list(range(len(batch))), {}
    except Exception as err:  # retried one by one below
        if len(batch) == 1:
            return None, [], {0: reason(err)}
    outputs: list[EditOutput] = []
    rows: list[int] = []
    errors: dict[int, str] = {}
    for row in range(len(batch)):
        one = subset(batch, [row])
        try:
            with torch.no_grad():
                outputs.append(checked(editor.edit_batch(one), one))
            rows.append(row)
        except Exception as err:  # this sample only
            errors[row] = reason(err)
    return (_cat(outputs) if outputs else None), rows, errors
