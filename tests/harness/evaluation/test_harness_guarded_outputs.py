"""The output guard and failures that cost: wrong scale, NaN, dtype and dropped samples never win."""

import json

import pytest
import torch

import faceedit_bench as fb
from faceedit_bench.api.batch import PairBatch
from faceedit_bench.api.editor import Editor, EditOutput
from faceedit_bench.cli.main import main
from faceedit_bench.harness.evaluation.robust_edit import checked, far_image, with_failures
from faceedit_bench.harness.outputs.results import load_results


def _batch(n: int = 3, size: int = 8) -> PairBatch:
    src = torch.rand(n, 3, size, size)
    return PairBatch(source=src, target_aus=torch.zeros(n, 17), sample_ids=[f"p{i}" for i in range(n)])


@pytest.mark.parametrize(
    ("images", "why"),
    [
        (lambda b: b.source * 255, r"outside \[0, 1\]"),
        (lambda b: b.source * 2 - 1, r"outside \[0, 1\]"),
        (lambda b: torch.where(b.source > 0.5, float("nan"), b.source), "NaN"),
        (lambda b: (b.source * 255).to(torch.uint8), "dtype"),
        (lambda b: b.source[:, :, :4], "shape"),
    ],
)
def test_the_guard_names_each_wrong_output(images, why):
    batch = _batch()
    with pytest.raises(ValueError, match=why):
        checked(EditOutput(images=images(batch)), batch)


def test_the_guard_keeps_float_rounding_and_clamps_it():
    batch = _batch()
    out = checked(EditOutput(images=batch.source * (1 + 5e-4)), batch)
    assert float(out.images.max()) <= 1.0


def test_a_failed_row_gets_the_image_farthest_from_the_reference():
    batch = _batch(4)
    out = with_failures(EditOutput(images=batch.source[[0, 2]]), [0, 2], batch)
    assert torch.equal(out.images[0], batch.source[0]) and torch.equal(out.images[2], batch.source[2])
    far = far_image(batch)
    assert torch.equal(out.images[1], far[1])
    assert float((far - batch.source).abs().min()) >= 0.5 - 1e-6


class Times255(Editor):
    """A unit bug: the source on the 0-255 scale."""

    def edit(self, images, target_aus):
        return EditOutput(images=images * 255.0)


class FailsOnOddPairs(Editor):
    """Copies the source, except that every second pair of the protocol raises."""

    def edit(self, images, target_aus):
        if len(images) > 1:
            raise RuntimeError("batch refused")  # retried one by one
        if float(images.mean()) > self.cut:
            raise RuntimeError("cannot edit this one")
        return EditOutput(images=images.clone())


def test_a_unit_bug_fails_every_pair_and_the_api_says_so():
    with pytest.raises(fb.EditorFailed, match="every one of its 10 pairs"):
        fb.evaluate(lambda x, a: x * 255.0, protocol="tiny", device="cpu")


def test_failures_keep_n_and_cost(tmp_path):
    editor = FailsOnOddPairs()
    editor.cut = 0.5
    res = fb.evaluate(
        editor, protocol="tiny", name="flaky", compare_with=("identity",), device="cpu", out=tmp_path
    )
    data = res.data
    flaky, ident = data["editors"]["flaky"], data["editors"]["identity"]
    assert flaky["n_failed"] > 0
    # n is the protocol's for both editors, and the failures pull the flaky copy below identity
    assert flaky["metrics"]["psnr@exact"]["n"] == ident["metrics"]["psnr@exact"]["n"] == 10
    assert flaky["metrics"]["psnr@exact"]["value"] < ident["metrics"]["psnr@exact"]["value"]
    samples = [json.loads(line) for line in (tmp_path / "samples.jsonl").read_text().splitlines()]
    failed = [s for s in samples if s["editor"] == "flaky" and s.get("failed")]
    assert len(failed) == flaky["n_failed"] and all(s["values"]["psnr@exact"] < 7 for s in failed)


class FirstBatchFails(Editor):
    """Raises on every pair of the first batch only: later batches must still be tried."""

    def edit(self, images, target_aus):
        if self.calls < 5:  # the batch call, then its 4 one-by-one retries
            self.calls += 1
            raise RuntimeError("warming up")
        return EditOutput(images=images.clone())


def test_later_batches_are_tried_after_a_failed_batch(tmp_path):
    editor = FirstBatchFails()
    editor.calls = 0
    res = fb.evaluate(editor, protocol="tiny", name="late", device="cpu", out=tmp_path)
    entry = res.data["editors"]["late"]
    assert entry["n_failed"] == 4 and entry["metrics"]["psnr@exact"]["n"] == 10


def test_a_run_whose_system_failed_on_every_sample_exits_nonzero(tmp_path, monkeypatch):
    from faceedit_bench import plugins

    plugins.editors.register("times255-test", Times255, help="tests only", replace=True)
    out = tmp_path / "run"
    argv = ["compare", "--protocol", "tiny", "--editors", "identity", "times255-test", "--out", str(out),
            "--no-figures", "--no-progress"]  # fmt: skip
    assert main(argv) == 1
    entry = load_results(out / "results.json")["editors"]["times255-test"]
    assert entry["n_failed"] == 10 and "outside [0, 1]" in entry["failed_samples"][0]["reason"]
