"""The real-side cache is used only when it provably holds what its key says, for every judge."""

from __future__ import annotations

import torch

from faceedit_bench import plugins
from faceedit_bench.api.backends import AUDetector, FeatureExtractor
from faceedit_bench.api.step import BackendSet
from faceedit_bench.cache_file import load_checked, save_checked
from faceedit_bench.harness.evaluation.real_side import RealRead, real_reads, real_side
from faceedit_bench.metrics.metric_au_error import AUError
from faceedit_bench.metrics.metric_fid import FID
from faceedit_bench.testing import PixelIdentity

BATCHES = [[0, 1, 2, 3], [4, 5]]
FID_TARGET = RealRead("fid_features", "target")


class Counting(FeatureExtractor):
    label = "counting-test"

    def __init__(self) -> None:
        self.calls = 0

    def features(self, images: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return images.double().mean(dim=(2, 3))


class DarkBlind(AUDetector):
    """17 AUs from pixel means; no face (an all-NaN row) in dark images."""

    label = "dark-blind-test"

    def detect(self, images: torch.Tensor) -> torch.Tensor:
        means = images.float().mean(dim=(1, 2, 3))
        aus = means[:, None].repeat(1, 17) * 5
        return torch.where(means[:, None] < 0.45, float("nan"), aus)


def _real(monkeypatch, tmp_path, backends, reads):
    monkeypatch.setenv("FACEEDIT_BENCH_CACHE_FEATURES", str(tmp_path))
    pairs = plugins.datasets.get("tiny")(split="test").make_pairs(6, 3)
    return real_side(pairs, BATCHES, reads, backends, "cpu")


def test_a_hit_is_used_and_every_kind_of_bad_entry_is_rebuilt(monkeypatch, tmp_path, capsys):
    ext = Counting()
    backends = BackendSet(fid_features=ext)
    good = _real(monkeypatch, tmp_path, backends, [FID_TARGET])[FID_TARGET]
    again = _real(monkeypatch, tmp_path, backends, [FID_TARGET])[FID_TARGET]
    assert ext.calls == 2 and torch.equal(again, good) and good.dtype == torch.float64
    (entry,) = tmp_path.glob("*.pt")
    record = torch.load(entry, weights_only=True)
    tampered = [
        {**record, "tensors": {**record["tensors"], "values": good * 1.5}},  # edited: checksum fails
        {**record, "key": "another"},  # built for something else
        good,  # an older, unchecked format
    ]
    for bad in tampered:
        torch.save(bad, entry)
        assert torch.equal(_real(monkeypatch, tmp_path, backends, [FID_TARGET])[FID_TARGET], good)
        assert "warning: rebuilding real-side cache" in capsys.readouterr().out
    save_checked(entry, entry.stem, {"values": torch.full_like(good, float("inf")), "device": "cpu"})
    assert torch.equal(_real(monkeypatch, tmp_path, backends, [FID_TARGET])[FID_TARGET], good)
    assert "NaN or infinite" in capsys.readouterr().out
    save_checked(entry, entry.stem, {"values": good})  # valid checksum, no device
    assert torch.equal(_real(monkeypatch, tmp_path, backends, [FID_TARGET])[FID_TARGET], good)
    assert "no device recorded" in capsys.readouterr().out
    entry.write_bytes(entry.read_bytes()[:50])
    assert torch.equal(_real(monkeypatch, tmp_path, backends, [FID_TARGET])[FID_TARGET], good)
    assert "damaged" in capsys.readouterr().out  # its bytes are not those the cache index records
    assert load_checked(entry, entry.stem)[0] is not None  # the rebuilt entry is valid again


def test_aus_and_embeddings_of_both_real_sides_are_cached_with_their_missed_faces(monkeypatch, tmp_path):
    backends = BackendSet(au_detector=DarkBlind(), identity=PixelIdentity(), fid_features=Counting())
    metrics = {"au_error": AUError, "fid": FID, "identity": plugins.metrics.get("identity")}
    reads = real_reads(metrics, backends, has_ground_truth=True)
    assert reads == [  # the AU metric reads the identity judge too (a face it misses is missed for AUs)
        RealRead("aus", "source"),
        RealRead("aus", "target"),
        RealRead("embedding", "source"),
        FID_TARGET,
    ]
    assert RealRead("aus", "target") not in real_reads(metrics, backends, has_ground_truth=False)
    first = _real(monkeypatch, tmp_path, backends, reads)
    assert len(list(tmp_path.glob("*.pt"))) == 4
    aus = first[RealRead("aus", "source")]
    assert aus.shape == (6, 17) and aus.dtype == torch.float32 and torch.isnan(aus).all(dim=1).any()
    fresh = BackendSet(au_detector=DarkBlind(), identity=PixelIdentity(), fid_features=Counting())
    cached = _real(monkeypatch, tmp_path, fresh, reads)
    assert fresh.fid_features.calls == 0  # type: ignore[union-attr]
    for read in reads:
        assert torch.equal(cached[read].nan_to_num(-9), first[read].nan_to_num(-9))
        assert cached[read].dtype == first[read].dtype


class Wide(Counting):
    """Declares its feature width, as the shipped Inception does (2048)."""

    label = "wide-test"
    output_width = 3


def test_a_re_checksummed_plausible_entry_is_rebuilt_naming_the_file(monkeypatch, tmp_path, capsys):
    """The audit's FID 38.4 -> 160.7: wrong values with a recomputed in-file checksum are not used."""
    from faceedit_bench.cache_file import FORMAT, tensors_checksum

    backends = BackendSet(fid_features=Counting())
    good = _real(monkeypatch, tmp_path, backends, [FID_TARGET])[FID_TARGET]
    (entry,) = tmp_path.glob("*.pt")
    wrong = {"values": good * 3 + 1, "device": "cpu"}
    torch.save(
        {"format": FORMAT, "key": entry.stem, "sha256": tensors_checksum(wrong), "tensors": wrong}, entry
    )
    assert torch.equal(_real(monkeypatch, tmp_path, backends, [FID_TARGET])[FID_TARGET], good)
    out = capsys.readouterr().out
    assert "warning: rebuilding real-side cache" in out and str(entry) in out and "cache index" in out
    assert backends.fid_features.calls == 4  # two batches, computed twice: the wrong entry was not used


def test_a_wrong_width_entry_is_rebuilt_naming_the_file(monkeypatch, tmp_path, capsys):
    """Even listed in the index (written by save_checked), features of another width are rebuilt."""
    backends = BackendSet(fid_features=Wide())
    good = _real(monkeypatch, tmp_path, backends, [FID_TARGET])[FID_TARGET]
    (entry,) = tmp_path.glob("*.pt")
    save_checked(entry, entry.stem, {"values": torch.zeros(6, 2048, dtype=torch.float64), "device": "cpu"})
    assert torch.equal(_real(monkeypatch, tmp_path, backends, [FID_TARGET])[FID_TARGET], good)
    out = capsys.readouterr().out
    assert str(entry) in out and "expected (6, 3) values, found (6, 2048)" in out
