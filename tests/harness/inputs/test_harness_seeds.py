"""Seeds as an axis: several checkpoints of one editor -> replicates, seed summary, pooled paired tests."""

import json

import numpy as np
import pytest
import torch

from faceedit_bench.api.editor import Editor, EditOutput
from faceedit_bench.config import ConfigError, build_config
from faceedit_bench.harness.inputs.config import CompareConfig
from faceedit_bench.harness.inputs.seeds import (
    base_name,
    checkpoint_of,
    expand_checkpoints,
    load_with_seeds,
    recipe_differences,
    replicate_name,
)
from faceedit_bench.jobs.compare import run_compare


class _Noisy(Editor):
    """Identity plus seeded Gaussian noise; the 'checkpoint' is the noise level."""

    def __init__(self, amount: float) -> None:
        self.amount = amount

    def edit(self, images, target_aus):
        g = torch.Generator().manual_seed(int(self.amount * 1000))
        noise = torch.randn(images.shape, generator=g)
        return EditOutput(images=(images + self.amount * noise).clamp(0, 1))

    def describe(self):
        return {"class": "noisy-test-editor", "amount": self.amount}


def test_expand_checkpoints_lists_globs_and_errors(tmp_path):
    for k in (3, 1, 2):
        (tmp_path / f"seed{k}.pt").write_bytes(b"")
    got = expand_checkpoints(["two-stage=a.pt,b.pt,c.pt", f"ganimation={tmp_path}/seed*.pt"])
    assert got["two-stage"] == ["a.pt", "b.pt", "c.pt"]
    assert got["ganimation"] == [str(tmp_path / f"seed{k}.pt") for k in (1, 2, 3)]  # sorted
    assert expand_checkpoints(["two-stage=only.pt"]) == {"two-stage": ["only.pt"]}
    with pytest.raises(ConfigError, match="matches no file"):
        expand_checkpoints([f"two-stage={tmp_path}/none*.pt"])
    with pytest.raises(ConfigError, match="listed twice"):
        expand_checkpoints(["two-stage=a.pt,a.pt"])
    assert base_name(replicate_name("two-stage", 2)) == "two-stage"
    assert base_name("two-stage-no-tv") == "two-stage-no-tv"
    assert checkpoint_of("two-stage.s2", got) == "b.pt"


def _fake_loader(real):
    def load(names, checkpoints, resolution, device, has_gt, **kw):
        out, unavailable = {}, {}
        for n in names:
            if n in ("two-stage", "ganimation"):
                out[n] = _Noisy(float(checkpoints.get(n, "0.05")))
            else:
                got, why = real([n], {}, resolution, device, has_gt, **kw)
                out.update(got)
                unavailable.update(why)
        return out, unavailable

    return load


def test_compare_with_three_seeds_pools_them(tmp_path, monkeypatch):
    from faceedit_bench.jobs import compare as compare_mod

    monkeypatch.setattr(compare_mod, "load_editors", _fake_loader(compare_mod.load_editors))
    cfg = build_config(
        CompareConfig, protocol="tiny", out=tmp_path / "run", progress=False, figures=False,
        editors=["identity", "oracle", "two-stage", "ganimation"],
        checkpoint=["two-stage=0.01,0.02,0.03", "ganimation=0.08"],
    )  # fmt: skip
    data = json.loads((run_compare(cfg) / "results.json").read_text())
    reps = ["two-stage.s1", "two-stage.s2", "two-stage.s3"]
    assert [e for e in data["editors"] if e.startswith("two-stage")] == reps
    assert data["editors"]["two-stage.s2"]["checkpoint"] == "0.02"
    assert data["editors"]["two-stage.s2"]["group"] == "two-stage"
    seeds = data["seeds"]["two-stage"]
    assert seeds["replicates"] == reps and seeds["checkpoints"] == ["0.01", "0.02", "0.03"]
    psnr = seeds["metrics"]["psnr@exact"]
    per_seed = [data["editors"][r]["metrics"]["psnr@exact"]["value"] for r in reps]
    assert psnr["per_seed"] == per_seed
    assert psnr["mean"] == pytest.approx(np.mean(per_seed))
    assert psnr["sd"] == pytest.approx(np.std(per_seed, ddof=1))
    assert psnr["ci95"][0] < psnr["mean"] < psnr["ci95"][1]
    comp = data["comparisons"]
    assert comp["reference"] == "ganimation"
    assert comp["resampled"].startswith("pairs (10 from 3 identities")  # tiny: id0..id2, too few to cluster
    row = next(
        r for r in comp["rows"]
        if (r["editor"], r["reference"], r["metric"]) == ("two-stage", "ganimation", "psnr@exact")
    )  # fmt: skip
    assert row["n_seeds"] == [3, 1] and row["n_pairs"] == 10
    assert row["difference"] == pytest.approx(
        psnr["mean"] - data["editors"]["ganimation"]["metrics"]["psnr@exact"]["value"]
    )
    # 1-3% noise against 8%: every seed is far better, so the pooled test says so
    assert row["significant"] and row["better"] == "two-stage" and row["p"] < 0.01
    assert any(r["reference"] == "identity" for r in comp["rows"])
    assert comp["winners"]["psnr@exact"]["best"] == "two-stage"


class _Trained(_Noisy):
    """A noisy editor with a training record, as a trained checkpoint carries one."""

    def __init__(self, amount: float, **config) -> None:
        super().__init__(amount)
        base = {
            "editor": "two-stage",
            "recipe": "cpu-64",
            "steps": 2400,
            "seed": 0,
            "out": "runs/a",
            "threads": 1,
        }
        self.state_meta = {"config": {**base, **config}, "step": config.get("steps", 2400)}


def test_recipe_differences_ignore_seed_and_logistics():
    same = {
        "a.pt": _Trained(0.01).state_meta,
        "b.pt": _Trained(0.02, seed=1, out="runs/b", threads=2).state_meta,
    }
    assert recipe_differences(same) == {}
    other = {"a.pt": _Trained(0.01).state_meta, "b.pt": _Trained(0.02, seed=1, steps=1200).state_meta}
    assert recipe_differences(other) == {
        "steps": {"a.pt": 2400, "b.pt": 1200},
        "step": {"a.pt": 2400, "b.pt": 1200},
    }
    missing = {"a.pt": _Trained(0.01, flow="displacement").state_meta, "b.pt": _Trained(0.02).state_meta}
    assert list(recipe_differences(missing)) == ["flow"]


def test_replicates_of_different_recipes_are_refused():
    def loader(names, checkpoints, *args, **kw):
        steps = {"s0.pt": 2400, "s1.pt": 2400, "old.pt": 1200}
        return {n: _Trained(0.01, seed=len(checkpoints[n]), steps=steps[checkpoints[n]]) for n in names}, {}

    args = (64, "cpu", True)
    editors, _, reps = load_with_seeds(["two-stage"], {"two-stage": ["s0.pt", "s1.pt"]}, *args, loader=loader)
    assert reps == {"two-stage": ["two-stage.s1", "two-stage.s2"]} and list(editors) == reps["two-stage"]
    with pytest.raises(
        ConfigError, match=r"not seeds of one training setup.*steps: 2400 \(s0.pt\), 1200 \(old.pt\)"
    ):
        load_with_seeds(["two-stage"], {"two-stage": ["s0.pt", "old.pt"]}, *args, loader=loader)
    # editors without a training record (a user's system) are not checked
    untrained = lambda names, checkpoints, *a, **k: ({n: _Noisy(0.01) for n in names}, {})  # noqa: E731
    load_with_seeds(["two-stage"], {"two-stage": ["s0.pt", "old.pt"]}, *args, loader=untrained)


def test_a_requested_checkpoint_that_cannot_load_fails_the_run(tmp_path, monkeypatch, capsys):
    from faceedit_bench.cli.main import main
    from faceedit_bench.jobs import compare as compare_mod

    real = compare_mod.load_editors

    def load(names, checkpoints, resolution, device, has_gt, **kw):
        if checkpoints.get("two-stage") == "broken.pt":
            return {}, {"two-stage": "checkpoint broken.pt for editor 'two-stage' does not exist"}
        return _fake_loader(real)(names, checkpoints, resolution, device, has_gt, **kw)

    monkeypatch.setattr(compare_mod, "load_editors", load)
    argv = ["compare", "--protocol", "tiny", "--editors", "identity", "two-stage",
            "--checkpoint", "two-stage=0.01,broken.pt,0.03", "--out", str(tmp_path / "r"), "--no-figures",
            "--no-progress", "--no-html"]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--checkpoint two-stage=broken.pt (two-stage.s2): checkpoint broken.pt" in err
    assert not (tmp_path / "r" / "results.json").exists()  # no run pooling two of three seeds
    argv[argv.index("two-stage=0.01,broken.pt,0.03")] = "two-stage=broken.pt"
    assert main(argv) == 2
    assert "--checkpoint two-stage=broken.pt (two-stage): checkpoint broken.pt" in capsys.readouterr().err
