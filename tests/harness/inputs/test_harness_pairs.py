"""The pairs a run evaluates: dataset arguments typed as the dataset declares them, prefixes forwarded."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import pytest

from faceedit_bench import plugins
from faceedit_bench.config import ConfigError
from faceedit_bench.harness.inputs.pairs import PrefixPairSet, build_pairs
from faceedit_bench.protocols import resolve_protocol


class _Recorder:
    """A dataset that records the arguments it was built with."""

    seen: ClassVar[dict] = {}

    def __init__(
        self, split: str = "all", crop: bool = True, resolution: int = 64, scale: float = 1.0
    ) -> None:
        _Recorder.seen = {"split": split, "crop": crop, "resolution": resolution, "scale": scale}

    def make_pairs(self, n_pairs, seed, recipe):
        return build_pairs(resolve_protocol("aurig-smoke"))


@pytest.fixture
def recorder():
    name = "test-recorder"
    plugins.datasets.register(name, _Recorder, help="records its arguments")
    yield name
    plugins.datasets.unregister(name)


def test_text_dataset_arguments_become_the_declared_types(recorder):
    protocol = dataclasses.replace(
        resolve_protocol("aurig-smoke"),
        dataset=recorder,
        dataset_args={"crop": "false", "resolution": "32", "scale": "0.5"},
    )
    build_pairs(protocol)
    assert _Recorder.seen == {"split": protocol.split, "crop": False, "resolution": 32, "scale": 0.5}


def test_an_unknown_dataset_argument_is_named(recorder):
    protocol = dataclasses.replace(
        resolve_protocol("aurig-smoke"), dataset=recorder, dataset_args={"crpo": "no"}
    )
    with pytest.raises(ConfigError, match=r"unknown key.*crpo"):
        build_pairs(protocol)


def test_a_prefix_forwards_the_real_side_and_reference_set():
    pairs = build_pairs(resolve_protocol("aurig-smoke"))
    prefix = PrefixPairSet(pairs, 3)
    assert len(prefix) == 3
    assert prefix.real_side == pairs.real_side
    assert prefix.reference_set() == pairs.reference_set()
