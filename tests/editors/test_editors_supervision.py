"""Supervision regimes: derived from what a training run used, shipped checkpoints labelled right."""

from __future__ import annotations

import pytest

from faceedit_bench import plugins
from faceedit_bench.editors.supervision import mixed_regimes, paired_signals, regime_of_config


def test_a_run_without_pairs_is_unpaired_and_each_paired_signal_makes_it_paired():
    assert regime_of_config({"motion_init": None, "loss_weights": {"lambda_mask": 0.0}}) == "unpaired"
    assert regime_of_config({"motion_init": {"path": "m.pt"}}) == "paired"
    assert regime_of_config({"loss_weights": {"lambda_pair": 1000.0}, "pair_on": "output"}) == "paired"
    assert paired_signals({"init": "a.pt"}, lambda init: "paired") == ["init"]
    assert regime_of_config({"init": "a.pt"}, lambda init: "unpaired") == "unpaired"
    assert regime_of_config({"supervision": "paired"}) == "paired"  # recorded wins
    assert regime_of_config(None) == "unknown"


@pytest.mark.parametrize(
    ("checkpoint_set", "editor", "regime"),
    [
        ("aurig-64", "two-stage", "paired"),  # motion step pre-trained on same-person pairs, frozen
        ("aurig-64", "warp-only", "paired"),
        ("aurig-64", "ganimation", "unpaired"),
        ("aurig-64", "texture-only", "unpaired"),
        ("video-64", "two-stage", "paired"),  # fine-tuned from aurig-64's paired two-stage
        ("video-64", "ganimation", "unpaired"),
    ],
)
def test_shipped_checkpoints_say_which_signals_they_had(checkpoint_set, editor, regime):
    loaded = plugins.editors.get(editor).create(
        checkpoint=None, resolution=64, device="cpu", checkpoint_set=checkpoint_set
    )
    assert loaded.supervision() == regime
    assert loaded.describe()["supervision"] == regime


def test_only_two_trained_regimes_are_mixed():
    assert mixed_regimes({"a": "paired", "b": "paired", "c": "unknown", "id": "none"}) == {}
    assert mixed_regimes({"a": "paired", "b": "unpaired"}) == {"paired": ["a"], "unpaired": ["b"]}
