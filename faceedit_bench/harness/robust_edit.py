"""Edit a batch so that one bad sample costs only itself.

An editor that raises on a batch (an external system's unreadable, wrong-size or
huge image; a model that returns the wrong shape) is retried sample by sample:
the samples that work are scored, the others become named, counted failures.
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


def checked(out: EditOutput, batch: PairBatch) -> EditOutput:
    """``out`` if its images match the batch's shape and are finite, else a ValueError saying why."""
    want = tuple(batch.source.shape)
    got = tuple(out.images.shape)
    if got != want:
        raise ValueError(f"edited images have shape {got}, expected {want}")
    if not torch.isfinite(out.images).all():
        raise ValueError("edited images contain NaN or infinite values")
    return out


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
