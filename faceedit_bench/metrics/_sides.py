"""Which real images distribution metrics compare edits against."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from faceedit_bench.api.step import EvalStep, Which


def real_side(step: EvalStep) -> Which:
    """A held-out reference set when the pairs have one, else the true targets, else the sources."""
    if getattr(step.batch, "reference_image", None) is not None:
        return "reference"
    return "target" if step.batch.has_ground_truth else "source"


def check_state(metric: str, state: dict[str, object], expected: tuple[str, ...]) -> None:
    """A clear error for a state that another metric (or version) produced."""
    missing = [k for k in expected if k not in state]
    if missing:
        raise ValueError(f"{metric}: cannot merge a state without {missing} (has {sorted(state)})")
