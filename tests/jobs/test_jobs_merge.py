"""``merge``: refuses other pairs, other judges and two systems under one name; recomputes
the paired comparisons and bold from the pooled samples; merges figures' inputs or says why not."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from faceedit_bench.cli.main import main
from faceedit_bench.jobs.merge import MergeRefused, merge_runs
from tests.reports.conftest import write_run_dir

SPLIT = {"a": ["identity", "oracle", "ganimation", "two-stage"], "b": ["identity", "warp-only"]}


def _subset(src: Path, dst: Path, editors: list[str]) -> Path:
    """A copy of the fixture run holding only ``editors`` (as if it had run only them)."""
    dst.mkdir(parents=True)
    data = json.loads((src / "results.json").read_text())
    data["editors"] = {k: v for k, v in data["editors"].items() if k in editors}
    data["protocol"]["seed"] = 2020
    (dst / "results.json").write_text(json.dumps(data))
    rows = [json.loads(r) for r in (src / "samples.jsonl").read_text().splitlines() if r]
    (dst / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows if r["editor"] in editors))
    (dst / "artifacts").mkdir()
    for stem in ("qualitative", "sweeps"):
        with np.load(src / "artifacts" / f"{stem}.npz") as npz:
            arrays = {k: npz[k] for k in npz.files}
        own = [e for e in arrays["editors"] if e in editors]
        keep = {k: v for k, v in arrays.items() if "__" not in k or k.split("__")[1] not in arrays["editors"]}
        keep.update({k: v for k, v in arrays.items() if "__" in k and k.split("__")[1] in own})
        keep["editors"] = np.array(own)
        np.savez(dst / "artifacts" / f"{stem}.npz", **keep)
    return dst


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("merge")
    src = write_run_dir(root / "src")
    return _subset(src, root / "a", SPLIT["a"]), _subset(src, root / "b", SPLIT["b"])


def _edit(run: Path, dst: Path, fn) -> Path:
    import shutil

    shutil.copytree(run, dst)
    data = json.loads((dst / "results.json").read_text())
    fn(data)
    (dst / "results.json").write_text(json.dumps(data))
    return dst


def test_merged_run_has_paired_comparisons_and_significance_bold(runs, tmp_path):
    a, b = runs
    out = merge_runs([a, b], tmp_path / "m", figures=False)
    data = json.loads((out / "results.json").read_text())
    assert list(data["editors"]) == ["identity", "oracle", "ganimation", "two-stage", "warp-only"]
    block = data["comparisons"]
    pairs = {(r["editor"], r["reference"]) for r in block["rows"] if r["metric"] == "au_mae@aurig-ref"}
    assert ("warp-only", "ganimation") in pairs and ("two-stage", "ganimation") in pairs  # across runs
    assert block["winners"]["au_mae@aurig-ref"]["best"] == "two-stage"
    assert data["protocol"]["pair_set"].startswith("sha256:")
    summary = (out / "tables" / "summary.md").read_text()
    assert "significantly better than every other" in summary
    # a column with one competing editor (stlpips: warp-only alone) is never bold
    cells = [line for line in summary.splitlines() if line.startswith("| warp-only")]
    assert cells and "**0.22" not in cells[0]
    assert (out / "tables" / "comparisons.md").is_file()
    with np.load(out / "artifacts" / "qualitative.npz") as npz:
        assert list(npz["editors"]) == [*SPLIT["a"], "warp-only"] and "flow__warp-only" in npz.files


def test_refuses_runs_on_other_pairs(runs, tmp_path):
    a, b = runs
    other = _edit(b, tmp_path / "seed", lambda d: d["protocol"].update(seed=7))
    with pytest.raises(MergeRefused, match=r"other pairs.*'seed'"):
        merge_runs([a, other], tmp_path / "m", figures=False)
    shifted = tmp_path / "ids"
    import shutil

    shutil.copytree(b, shifted)
    rows = [json.loads(r) for r in (shifted / "samples.jsonl").read_text().splitlines() if r]
    for r in rows:
        r["sample_id"] = "q" + r["sample_id"][1:]
    (shifted / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(MergeRefused, match="scored other pairs"):
        merge_runs([a, shifted], tmp_path / "m2", figures=False)


def test_refuses_other_judges_and_a_second_system_under_one_name(runs, tmp_path):
    a, b = runs

    def other_detector(d):
        d["backends"]["au_detector"]["label"] = "mediapipe"

    judged = _edit(b, tmp_path / "judge", other_detector)
    with pytest.raises(MergeRefused, match="different au_detector"):
        merge_runs([a, judged], tmp_path / "m", figures=False)

    def rename(d):
        d["editors"]["identity"]["describe"] = {"class": "my_pkg.MyEditor"}

    impostor = _edit(b, tmp_path / "impostor", rename)
    with pytest.raises(MergeRefused, match="'identity' names different systems"):
        merge_runs([a, impostor], tmp_path / "m2", figures=False)


def test_cli_merge_refusal_is_a_named_error_exit_2(runs, tmp_path, capsys):
    a, b = runs
    other = _edit(b, tmp_path / "seed", lambda d: d["protocol"].update(seed=7))
    assert main(["merge", str(a), str(other), "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert "cannot merge" in err and str(other) in err and "seed" in err


def test_unmergeable_figure_inputs_are_named_in_the_notes(runs, tmp_path):
    a, b = runs
    import shutil

    c = tmp_path / "c"
    shutil.copytree(b, c)
    with np.load(c / "artifacts" / "sweeps.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["intensities"] = arrays["intensities"] * 2
    np.savez(c / "artifacts" / "sweeps.npz", **arrays)
    (c / "artifacts" / "qualitative.npz").unlink()
    out = merge_runs([a, c], tmp_path / "m", figures=False)
    notes = json.loads((out / "results.json").read_text())["merge"]["notes"]
    assert any("sweeps.npz not merged" in n and "intensities" in n for n in notes)
    assert any("qualitative.npz" in n and "warp-only" in n for n in notes)
    assert "sweeps.npz not merged" in (out / "tables" / "summary.md").read_text()


def test_a_seeded_system_and_a_single_checkpoint_under_one_name_are_refused(runs, tmp_path):
    a, b = runs

    def seeded(d):
        d["seeds"] = {"ganimation": {"replicates": ["ganimation.s1"], "checkpoints": [], "metrics": {}}}

    with pytest.raises(MergeRefused, match=r"one checkpoint in .* several training seeds"):
        merge_runs([a, _edit(b, tmp_path / "s", seeded)], tmp_path / "m", figures=False)


def test_merged_run_has_the_figures_of_a_normal_run(runs, tmp_path):
    out = merge_runs(list(runs), tmp_path / "m")
    made = {p.name for p in (out / "figures").glob("*.pdf")}
    assert {"qualitative.pdf", "inside.pdf", "sweep_AU12.pdf"} <= made
    assert "fig:aurig-demo:qualitative" in (out / "figures" / "figures.tex").read_text()
