"""Training of every trained editor with one shared trainer (critic, losses, loop, DDP).

``train`` and ``TrainConfig`` load lazily so that the CLI parser stays light.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TrainConfig", "train"]


def __getattr__(name: str) -> Any:
    if name == "train":
        from faceedit_bench.training.loop import train

        return train
    if name == "TrainConfig":
        from faceedit_bench.training.config import TrainConfig

        return TrainConfig
    raise AttributeError(name)
