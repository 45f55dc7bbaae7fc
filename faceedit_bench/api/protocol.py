"""Named, versioned evaluation protocols (stylegan3-style: the name fixes the recipe)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Protocol:
    """Dataset + split + pairs + metric backends + sample count, fixed under one name.

    Bump ``version`` whenever anything here changes: results of different versions
    are never compared (the regression report refuses).
    """

    name: str
    version: int
    dataset: str
    dataset_args: dict[str, object]
    split: str
    resolution: int
    n_pairs: int
    seed: int
    metrics: tuple[str, ...]
    # backend preference per kind, first available wins (user path > cache > offline)
    backends: dict[str, tuple[str, ...]] = field(default_factory=dict)
    pair_recipe: str = "ganimation"
    batch_size: int = 32
    default_editors: tuple[str, ...] = ("identity", "oracle")
    description: str = ""
    # the shipped checkpoints its trained editors load (assets/editors/<set>/<editor>.pt);
    # "" -> "<dataset>-<resolution>" (a set not shipped at that resolution: the dataset's nearest)
    checkpoint_set: str = ""

    def __post_init__(self) -> None:
        if not self.checkpoint_set:
            object.__setattr__(self, "checkpoint_set", f"{self.dataset}-{self.resolution}")

    def to_json(self) -> dict[str, object]:
        out = asdict(self)
        out["metrics"] = list(self.metrics)
        out["default_editors"] = list(self.default_editors)
        out["backends"] = {k: list(v) for k, v in self.backends.items()}
        return out
