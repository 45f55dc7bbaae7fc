"""A judge in a worker process gives the in-process numbers exactly, and a dead worker fails clearly.

Runs :func:`evaluate` on the tiny protocol with :class:`faceedit_bench.testing.PixelIdentity`,
a judge that opts into a worker process (as dlib's does), next to editors that fail
whole batches or single samples, so held batches meet every path of the pass.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import ClassVar

import pytest
import torch

from faceedit_bench import plugins
from faceedit_bench.api.backends import FeatureExtractor
from faceedit_bench.api.editor import Editor, EditOutput
from faceedit_bench.api.step import BackendSet
from faceedit_bench.harness.evaluation.gather import EvaluationOutput
from faceedit_bench.harness.evaluation.judge_worker import JudgeWorker, JudgeWorkerDied, start_workers
from faceedit_bench.harness.evaluation.run import evaluate
from faceedit_bench.harness.inputs.backends import BackendChoice
from faceedit_bench.testing import PixelDistance, PixelIdentity

N_PAIRS, BATCH = 10, 4  # three batches: 4, 4, 2


class Darken(Editor):
    """Darkens; fails every sample when ``broken``, else the samples whose ids are in ``bad``."""

    def __init__(self, broken: bool = False, bad: tuple[str, ...] = ()) -> None:
        self.broken, self.bad = broken, bad

    def edit(self, images, target_aus):
        raise AssertionError("harness calls edit_batch")

    def edit_batch(self, batch):
        if self.broken or any(s in self.bad for s in batch.sample_ids):
            raise RuntimeError("cannot edit")
        return EditOutput(images=batch.source * 0.8)

    def describe(self):
        return {"class": "darken-test", "broken": self.broken, "bad": list(self.bad)}


class ThreadsSeen(FeatureExtractor):
    """Pooled pixels as features; records the torch threads it ran on (a multi-threaded judge)."""

    label = "threads-seen-test"
    lean_threads = True
    seen: ClassVar[set[int]] = set()

    def features(self, images: torch.Tensor) -> torch.Tensor:
        self.seen.add(torch.get_num_threads())
        return torch.nn.functional.adaptive_avg_pool2d(images.double(), 2).flatten(1)


def _editors() -> dict[str, Editor]:
    ids = plugins.datasets.get("tiny")(split="test").make_pairs(N_PAIRS, 3).batch([5]).sample_ids
    return {
        "broken": Darken(broken=True),  # fails on every sample: each scored worst
        "partly": Darken(bad=tuple(ids)),  # one sample of batch 1 fails (that batch is re-edited per row)
        "darken": Darken(),
    }


def _evaluate(work: Path, mode: str, monkeypatch: pytest.MonkeyPatch) -> EvaluationOutput:
    """The pass in ``work``; its real-side cache is ``work/cache`` (a first run judges the real side)."""
    monkeypatch.setenv("FACEEDIT_BENCH_CACHE_FEATURES", str(work / "cache"))
    protocol = dataclasses.replace(
        plugins.protocols.get("tiny"),
        metrics=("identity", "psnr", "fid", "lpips"),
        n_pairs=N_PAIRS,
        batch_size=BATCH,
    )
    pairs = plugins.datasets.get("tiny")(split="test").make_pairs(N_PAIRS, protocol.seed)
    backends = BackendSet(identity=PixelIdentity(), fid_features=ThreadsSeen(), lpips=PixelDistance())
    choices = {
        "identity": BackendChoice("identity", "pixel", PixelIdentity.label, "test", {}),
        "fid_features": BackendChoice("fid_features", "seen", ThreadsSeen.label, "test", {}),
        "lpips": BackendChoice("lpips", "pixel", PixelDistance.label, "test", {}),
    }
    out = evaluate(protocol, pairs, _editors(), backends, choices, work, progress=False, judge_worker=mode)
    assert out is not None
    return out


@pytest.fixture
def two_threads():
    """The pass on two torch threads (the judge's upscale rounds differently on one)."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_worker_numbers_equal_in_process_numbers_exactly(tmp_path, monkeypatch, two_threads):
    ThreadsSeen.seen.clear()
    local = _evaluate(tmp_path / "local", "off", monkeypatch)
    assert ThreadsSeen.seen == {2} and PixelDistance.threads == {2}
    ThreadsSeen.seen.clear()
    PixelDistance.threads.clear()
    remote = _evaluate(tmp_path / "worker", "on", monkeypatch)
    assert ThreadsSeen.seen == {1}  # a core left to the worker, for the whole pass
    assert PixelDistance.threads <= {1}  # joined the worker; what the pass took back ran on its 1 thread
    assert remote.samples == local.samples
    assert remote.metrics["darken"]["lpips_target@pixel-dist-test"]["n"] == N_PAIRS
    for editor, metrics in local.metrics.items():  # FID: to float tolerance (features on other threads)
        assert remote.metrics[editor].keys() == metrics.keys()
        for key, entry in metrics.items():
            assert remote.metrics[editor][key]["value"] == pytest.approx(entry["value"], rel=1e-9, abs=1e-12)
    assert remote.sample_failures == local.sample_failures
    assert len(remote.sample_failures["broken"]) == N_PAIRS
    assert remote.metrics["partly"]["id_cos@pixel-id-test"]["n"] == N_PAIRS  # the failure scored worst
    assert remote.timings["judge pixel-id-test (worker)"] > 0 and "judge pixel-id-test" not in remote.timings
    assert "judge pixel-dist-test" not in remote.timings  # never on the pass's own threads
    assert "waiting for the worker" in remote.timings
    assert local.timings["judge pixel-id-test"] > 0


def test_the_pass_takes_back_queued_calls_of_a_slow_worker_with_the_same_numbers(
    tmp_path, monkeypatch, two_threads
):
    local = _evaluate(tmp_path / "local", "off", monkeypatch)
    monkeypatch.setenv("FACEEDIT_TEST_WORKER_SLOW_S", "0.5")  # each identity call in the worker
    remote = _evaluate(tmp_path / "worker", "on", monkeypatch)
    assert remote.timings["judge pixel-id-test (taken back from the worker)"] > 0
    assert remote.samples == local.samples
    assert remote.metrics.keys() == local.metrics.keys()


def test_a_judge_that_joins_a_worker_never_starts_one():
    alone = BackendSet(lpips=PixelDistance())
    assert start_workers(alone, "cpu", "on") is alone
    both = start_workers(BackendSet(identity=PixelIdentity(), lpips=PixelDistance()), "cpu", "on")
    try:
        assert set(both.workers) == {"identity", "lpips"} and both.clock.lean
    finally:
        next(iter(both.workers.values())).close()


def test_a_dead_worker_stops_the_run_clearly_and_it_resumes(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(JudgeWorker, "take_back", False)  # the worker makes every call: its K-th is known
    clean = _evaluate(tmp_path / "clean", "on", monkeypatch)
    monkeypatch.setenv("FACEEDIT_TEST_WORKER_EXIT_AT", "4")  # real side: calls 1-3; dies on batch 0's edits
    with pytest.raises(JudgeWorkerDied, match="running judges pixel-id-test, pixel-dist-test died"):
        _evaluate(tmp_path / "run", "on", monkeypatch)
    assert "nothing was saved" in capsys.readouterr().out
    # the real side is cached now: the worker dies while batch 1 is held
    monkeypatch.setenv("FACEEDIT_TEST_WORKER_EXIT_AT", "4")  # batch 0's edits: calls 1-3 (three editors)
    with pytest.raises(JudgeWorkerDied):
        _evaluate(tmp_path / "run", "on", monkeypatch)
    assert "1 of 3 batches are saved" in capsys.readouterr().out
    monkeypatch.delenv("FACEEDIT_TEST_WORKER_EXIT_AT")
    resumed = _evaluate(tmp_path / "run", "on", monkeypatch)
    assert resumed.metrics == clean.metrics and resumed.samples == clean.samples


def test_a_worker_that_cannot_start_is_an_error_only_when_required(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FACEEDIT_TEST_WORKER_NO_START", "1")
    with pytest.raises(JudgeWorkerDied, match="could not start"):
        _evaluate(tmp_path / "on", "on", monkeypatch)
    from faceedit_bench.harness.evaluation import judge_worker

    monkeypatch.setattr(judge_worker, "usable_cpus", lambda: 2)  # auto starts it on any machine
    fallback = _evaluate(tmp_path / "auto", "auto", monkeypatch)
    assert "run in this process instead" in capsys.readouterr().out
    assert fallback.samples == _evaluate(tmp_path / "off", "off", monkeypatch).samples


def _real_judges_usable() -> bool:
    from faceedit_bench.harness.inputs.backends import backend_availability

    return all(
        backend_availability(k, n).usable for k, n in (("au_detector", "mediapipe"), ("identity", "dlib"))
    )


@pytest.mark.slow  # builds the video dataset (MediaPipe on 544 frames) and runs dlib: .ci/run's slow step
@pytest.mark.skipif(not _real_judges_usable(), reason="MediaPipe or dlib models missing")
def test_real_face_judges_give_the_same_values_in_a_worker(tmp_path, monkeypatch):
    from faceedit_bench.harness.inputs.backends import choose_backends
    from faceedit_bench.harness.inputs.pairs import build_pairs

    base = plugins.protocols.get("video-reenact")
    protocol = dataclasses.replace(base, metrics=("au_error", "identity"), batch_size=4)
    pairs = build_pairs(protocol, 10)
    backends, choices = choose_backends(protocol, {"au_detector": "mediapipe", "identity": "dlib"})
    runs = {}
    for mode in ("off", "on"):
        monkeypatch.setenv("FACEEDIT_BENCH_CACHE_FEATURES", str(tmp_path / mode / "cache"))
        runs[mode] = evaluate(
            protocol, pairs, {"darken": Darken()}, backends, choices, tmp_path / mode,
            progress=False, judge_worker=mode,
        )  # fmt: skip
    assert runs["on"].samples == runs["off"].samples and runs["on"].metrics == runs["off"].metrics
    assert runs["on"].metrics["darken"]["id_cos@dlib-resnet"]["n"] == 10
