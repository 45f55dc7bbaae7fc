"""The pairs a run evaluates and the device it runs on: the protocol's pair set, or its first N pairs."""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

from faceedit_bench import plugins
from faceedit_bench.api.dataset import PairSet
from faceedit_bench.api.protocol import Protocol
from faceedit_bench.config import ConfigError, call_with_options


def resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"--device {device}: CUDA is not available on this machine")
    return device


def build_pairs(protocol: Protocol, n_pairs: int | None = None) -> PairSet:
    dataset_cls = plugins.datasets.get(protocol.dataset)
    # text values from --dataset-args / YAML become the dataset's annotated types (crop=false -> False)
    dataset = call_with_options(
        dataset_cls,
        {"split": protocol.split, **protocol.dataset_args},
        f"dataset {protocol.dataset!r} arguments",
    )
    pairs = dataset.make_pairs(protocol.n_pairs, protocol.seed, protocol.pair_recipe)
    if n_pairs is not None and n_pairs < len(pairs):
        pairs = PrefixPairSet(pairs, n_pairs)
    return pairs


def clamp_n_pairs(config: Any, pairs: PairSet) -> Any:
    """``config`` with ``n_pairs`` unset when it asks for every pair or more (said when more)."""
    if config.n_pairs is None or isinstance(pairs, PrefixPairSet):
        return config
    if config.n_pairs > len(pairs):
        print(
            f"note: --n-pairs {config.n_pairs} is more than the {len(pairs)} pairs there are; all are evaluated"
        )
    return dataclasses.replace(config, n_pairs=None)


def subset_block(pairs: PairSet) -> dict[str, Any]:
    """``{"subset": {"n": N, "of": TOTAL}}`` when only the first N pairs are evaluated, else ``{}``."""
    if not isinstance(pairs, PrefixPairSet):
        return {}
    return {"subset": {"n": len(pairs), "of": len(pairs.inner)}}


class PrefixPairSet(PairSet):
    """The first ``n`` pairs of a pair set."""

    def __init__(self, inner: PairSet, n: int) -> None:
        self.inner, self.n = inner, n
        self.has_ground_truth = inner.has_ground_truth

    def __len__(self) -> int:
        return self.n

    def batch(self, indices):
        return self.inner.batch(indices)

    def reference_images(self, indices):
        return self.inner.reference_images(indices)

    def true_edits(self, indices, target_aus):
        return self.inner.true_edits(indices, target_aus)

    @property
    def real_side(self):
        return self.inner.real_side

    def reference_set(self) -> dict[str, object]:
        return self.inner.reference_set()

    def cache_key(self) -> str:
        return f"{self.inner.cache_key()}[:{self.n}]"
