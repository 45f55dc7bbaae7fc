"""Resume state of an evaluation: small, code-free, saved from the first batch and on Ctrl-C/SIGTERM.

Runs :func:`evaluate` directly on the tiny protocol with FID and KID fed by a small
fake feature extractor, so interrupted-and-resumed runs can be compared exactly.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import signal
from pathlib import Path

import numpy as np
import pytest
import torch

from faceedit_bench import plugins
from faceedit_bench.api.backends import FeatureExtractor
from faceedit_bench.api.editor import Editor, EditOutput
from faceedit_bench.api.step import BackendSet
from faceedit_bench.harness.evaluation.run import evaluate
from faceedit_bench.harness.inputs.backends import BackendChoice

N_PAIRS, BATCH = 10, 4  # three batches: 4, 4, 2


class PooledFeatures(FeatureExtractor):
    """``dim`` float64 features: pooled pixels through a fixed random projection."""

    label = "pooled-test"

    def __init__(self, dim: int = 16) -> None:
        self.proj = torch.randn(
            3 * 4 * 4, dim, generator=torch.Generator().manual_seed(0), dtype=torch.float64
        )

    def features(self, images: torch.Tensor) -> torch.Tensor:
        pooled = torch.nn.functional.adaptive_avg_pool2d(images.double(), 4).flatten(1)
        return pooled @ self.proj


class Flip(Editor):
    """Mirrors the image; raises KeyboardInterrupt (or sends itself a signal) on call ``stop_at``."""

    def __init__(self, stop_at: int | None = None, sig: int | None = None) -> None:
        self.calls, self.stop_at, self.sig = 0, stop_at, sig

    def edit(self, images, target_aus):
        self.calls += 1
        if self.calls == self.stop_at:
            if self.sig is None:
                raise KeyboardInterrupt
            os.kill(os.getpid(), self.sig)
        return EditOutput(images=images.flip(-1))

    def describe(self):
        return {"class": "flip-test-editor"}


class Darken(Flip):
    def edit(self, images, target_aus):
        super().edit(images, target_aus)
        return EditOutput(images=images * 0.8)

    def describe(self):
        return {"class": "darken-test-editor"}


def _protocol():
    base = plugins.protocols.get("tiny")
    return dataclasses.replace(base, metrics=("psnr", "fid", "kid"), n_pairs=N_PAIRS, batch_size=BATCH)


def _evaluate(work: Path, editors: dict[str, Editor], features: FeatureExtractor | None = None):
    protocol = _protocol()
    pairs = plugins.datasets.get("tiny")(split="test").make_pairs(N_PAIRS, protocol.seed)
    backends = BackendSet(fid_features=features or PooledFeatures())
    choices = {"fid_features": BackendChoice("pooled", backends.fid_features.label, "test", {})}
    return evaluate(protocol, pairs, editors, backends, choices, work, progress=False)


def _same(a, b) -> None:
    assert a.metrics == b.metrics  # exact: values, intervals, counts
    assert a.samples == b.samples
    assert a.no_face == b.no_face and a.failed == b.failed
    assert a.qualitative.keys() == b.qualitative.keys()
    for key in a.qualitative:
        np.testing.assert_array_equal(a.qualitative[key], b.qualitative[key])


@pytest.mark.parametrize("batch", [1, 2, 3])
@pytest.mark.parametrize("who", ["flip", "darken"])  # the first or the second editor of the batch
def test_interrupted_anywhere_resumes_to_identical_results(tmp_path, who, batch):
    full = _evaluate(tmp_path / "full", {"flip": Flip(), "darken": Darken()})
    assert "fid@pooled-test" in full.metrics["flip"] and "kid@pooled-test" in full.metrics["flip"]
    work = tmp_path / "resumed"
    editors = {"flip": Flip(), "darken": Darken()}
    editors[who].stop_at = batch
    with pytest.raises(KeyboardInterrupt):
        _evaluate(work, editors)
    saved = list((work / ".partial").glob("*.npz"))
    assert len(saved) == (0 if batch == 1 else 1)  # the first batch is saved as soon as it is done
    resumed = _evaluate(work, {"flip": Flip(), "darken": Darken()})
    _same(full, resumed)


def test_interrupt_message_says_where_state_is_only_when_it_is_there(tmp_path, capsys):
    with pytest.raises(KeyboardInterrupt):
        _evaluate(tmp_path, {"flip": Flip(stop_at=1)})
    assert "nothing was saved" in capsys.readouterr().out
    assert not (tmp_path / ".partial").exists()
    with pytest.raises(KeyboardInterrupt):
        _evaluate(tmp_path, {"flip": Flip(stop_at=3)})
    out = capsys.readouterr().out
    assert "2 of 3 batches are saved in" in out and str(tmp_path / ".partial") in out
    assert (tmp_path / ".partial" / "rank0-of-1.npz").is_file()


def test_sigterm_saves_finished_batches(tmp_path, capsys):
    # a process started in the background (nohup, CI runners) may begin with SIGINT ignored
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        _evaluate(tmp_path, {"flip": Flip(stop_at=2, sig=signal.SIGTERM)})
    assert "1 of 3 batches are saved" in capsys.readouterr().out
    # handlers restored to what they were
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def test_resume_state_holds_no_moment_matrices(tmp_path):
    """2048-d features: FID's float64 sums of outer products would be 2 x 32 MB per editor."""
    with pytest.raises(KeyboardInterrupt):
        _evaluate(tmp_path, {"flip": Flip(stop_at=3)}, PooledFeatures(dim=2048))
    size = (tmp_path / ".partial" / "rank0-of-1.npz").stat().st_size
    assert size < 8 * 2048 * 8 * 2  # the 8 edited samples' features, with room for the rest


class _Planted:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_planted_pickles_in_partial_are_never_loaded(tmp_path, capsys):
    marker = tmp_path / "code-ran"
    payload = pickle.dumps(_Planted(marker))
    pickle.loads(payload)  # the payload works when unpickled ...
    assert marker.exists()
    marker.unlink()
    partial = tmp_path / "run" / ".partial"
    partial.mkdir(parents=True)
    torch.save(_Planted(marker), partial / "rank0-of-1.pt")  # where older versions looked
    (partial / "rank0-of-1.npz").write_bytes(payload)
    np.save(partial / "x.npy", np.array([_Planted(marker)], dtype=object), allow_pickle=True)
    (partial / "x.npy").rename(partial / "rank0-of-1.npz")
    out = _evaluate(tmp_path / "run", {"flip": Flip()})
    assert not marker.exists()  # ... but nothing here unpickles it
    assert out.metrics["flip"]["psnr@exact"]["n"] == N_PAIRS
    assert "ignoring" in capsys.readouterr().out


class PartlyBroken(Editor):
    """Fails (unreadable, wrong size, huge) on chosen samples, like an external system's files."""

    def __init__(self, bad: dict[str, str]) -> None:
        self.bad = bad

    def edit(self, images, target_aus):
        raise AssertionError("harness calls edit_batch")

    def edit_batch(self, batch):
        kinds = [self.bad.get(s) for s in batch.sample_ids]
        if "unreadable" in kinds:
            raise OSError("image file is truncated")
        if "huge" in kinds:
            raise MemoryError("8000x8000 image")
        images = batch.source.flip(-1)
        if "wrong-size" in kinds:
            images = images[..., :-1]
        return EditOutput(images=images)

    def describe(self):
        return {"class": "partly-broken"}


def test_failed_samples_are_counted_and_named_not_fatal(tmp_path):
    pairs = plugins.datasets.get("tiny")(split="test").make_pairs(N_PAIRS, _protocol().seed)
    ids = pairs.batch(range(N_PAIRS)).sample_ids
    bad = {ids[1]: "unreadable", ids[5]: "wrong-size", ids[9]: "huge"}
    out = _evaluate(tmp_path, {"ext": PartlyBroken(bad), "flip": Flip()})
    assert out.failed == {}
    assert out.metrics["ext"]["psnr@exact"]["n"] == N_PAIRS  # failures scored worst, not dropped
    assert [f["sample_id"] for f in out.sample_failures["ext"]] == [ids[1], ids[5], ids[9]]
    reasons = [f["reason"] for f in out.sample_failures["ext"]]
    assert "truncated" in reasons[0] and "shape" in reasons[1] and "MemoryError" in reasons[2]
    rows = [s for s in out.samples if s["editor"] == "ext"]
    assert [s["sample_id"] for s in rows] == ids  # every pair has a row, in order
    assert rows[1]["failed"] and rows[1]["values"]["psnr@exact"] < 7 and "failed" not in rows[0]
    assert out.metrics["flip"]["psnr@exact"]["n"] == N_PAIRS and out.sample_failures["flip"] == []


def test_an_editor_that_never_works_fails_every_sample_and_scores_worst(tmp_path):
    class Broken(Flip):
        def edit(self, images, target_aus):
            raise RuntimeError("model exploded")

    out = _evaluate(tmp_path, {"broken": Broken(), "flip": Flip()})
    assert len(out.sample_failures["broken"]) == N_PAIRS
    assert all("model exploded" in f["reason"] for f in out.sample_failures["broken"])
    assert out.metrics["broken"]["psnr@exact"]["n"] == out.metrics["flip"]["psnr@exact"]["n"] == N_PAIRS
    assert out.metrics["broken"]["psnr@exact"]["value"] < out.metrics["flip"]["psnr@exact"]["value"]


def test_a_bad_cache_never_poisons_resume_state(tmp_path, monkeypatch):
    """Interrupted with wrong real-side features in the cache, resumed after the cache is fixed."""
    from faceedit_bench.cache_file import load_checked, save_checked

    monkeypatch.setenv("FACEEDIT_BENCH_CACHE_FEATURES", str(tmp_path / "cache"))
    clean = _evaluate(tmp_path / "clean", {"flip": Flip()})
    (entry,) = (tmp_path / "cache").glob("*.pt")
    tensors, _ = load_checked(entry, entry.stem)
    save_checked(
        entry, entry.stem, {**tensors, "values": tensors["values"] * 1.5}
    )  # wrong, validly checksummed
    with pytest.raises(KeyboardInterrupt):
        _evaluate(tmp_path / "run", {"flip": Flip(stop_at=3)})
    assert (tmp_path / "run" / ".partial" / "rank0-of-1.npz").is_file()
    entry.unlink()  # the cache is fixed (rebuilt from the images)
    _same(clean, _evaluate(tmp_path / "run", {"flip": Flip()}))
