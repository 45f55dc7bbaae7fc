"""The real-side feature cache is used only when it provably holds what its key says."""

from __future__ import annotations

import torch

from faceedit_bench import plugins
from faceedit_bench.api.backends import FeatureExtractor
from faceedit_bench.cache_file import load_checked, save_checked
from faceedit_bench.harness.feature_cache import reference_features


class Counting(FeatureExtractor):
    label = "counting-test"

    def __init__(self) -> None:
        self.calls = 0

    def features(self, images: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return images.double().mean(dim=(2, 3))


def _features(monkeypatch, tmp_path, extractor):
    monkeypatch.setenv("FACEEDIT_BENCH_CACHE_FEATURES", str(tmp_path))
    pairs = plugins.datasets.get("tiny")(split="test").make_pairs(6, 3)
    return reference_features(pairs, list(range(6)), extractor, 4, progress=False)


def test_a_hit_is_used_and_every_kind_of_bad_entry_is_rebuilt(monkeypatch, tmp_path, capsys):
    ext = Counting()
    good = _features(monkeypatch, tmp_path, ext)
    assert ext.calls == 2 and torch.equal(_features(monkeypatch, tmp_path, ext), good) and ext.calls == 2
    (entry,) = tmp_path.glob("*.pt")
    record = torch.load(entry, weights_only=True)
    tampered = [
        {**record, "tensors": {"features": good * 1.5}},  # right shape, edited: checksum fails
        {**record, "key": "another"},  # built for something else
        good,  # an older, unchecked format
    ]
    for bad in tampered:
        torch.save(bad, entry)
        assert torch.equal(_features(monkeypatch, tmp_path, ext), good)
        assert "warning: rebuilding feature cache" in capsys.readouterr().out
    save_checked(entry, entry.stem, {"features": torch.full_like(good, float("inf"))})  # valid checksum
    assert torch.equal(_features(monkeypatch, tmp_path, ext), good)
    assert "NaN or infinite" in capsys.readouterr().out
    entry.write_bytes(entry.read_bytes()[:50])
    assert torch.equal(_features(monkeypatch, tmp_path, ext), good)
    assert "truncated" in capsys.readouterr().out
    assert load_checked(entry, entry.stem)[0] is not None  # the rebuilt entry is valid again
