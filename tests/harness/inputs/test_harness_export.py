"""`export` + `compare --external`: another system's edits scored beside the shipped editors."""

import csv
import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from faceedit_bench.cli.main import main
from faceedit_bench.harness.inputs.export import export_protocol
from faceedit_bench.harness.inputs.manifest import ExternalEdits, ManifestError
from faceedit_bench.harness.inputs.pairs import build_pairs
from faceedit_bench.harness.outputs.results import load_results
from faceedit_bench.testing import TINY_PROTOCOL

N = 8


def _samples(out):
    rows = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    return {(r["editor"], r["sample_id"]): r["values"] for r in rows}


def _shift_edits(folder, pixels=2):
    for src in sorted((folder / "sources").glob("*.png")):
        arr = np.asarray(Image.open(src))
        Image.fromarray(np.roll(arr, pixels, axis=1)).save(folder / "edited" / src.name)


def test_export_copy_and_warp_score_in_one_table_with_shipped_editors(tmp_path):
    copy_dir, warp_dir = tmp_path / "copy", tmp_path / "warp"
    summary = export_protocol("aurig-smoke", copy_dir, n_pairs=N)
    assert summary.n_pairs == N and summary.has_ground_truth
    shutil.copytree(copy_dir, warp_dir)
    for src in (copy_dir / "sources").glob("*.png"):
        shutil.copy(src, copy_dir / "edited" / src.name)
    _shift_edits(warp_dir)

    out = tmp_path / "run"
    argv = ["compare", "--protocol", "aurig-smoke", "--n-pairs", str(N), "--out", str(out),
            "--editors", "identity", "two-stage", "ganimation",
            "--external", f"copy={copy_dir / 'pairs.csv'}", f"warp={warp_dir / 'pairs.csv'}",
            "--no-figures", "--no-progress", "--allow-mixed-supervision"]  # fmt: skip
    assert main(argv) == 0
    data = load_results(out / "results.json")
    assert data["protocol"]["name"] == "aurig-smoke" and data["protocol"]["version"] == 2
    editors = data["editors"]
    assert list(editors) == ["identity", "two-stage", "ganimation", "copy", "warp"]
    assert all(e["status"] == "ok" for e in editors.values())
    assert editors["copy"]["group"] == "external"
    with open(out / "tables" / "summary.csv") as f:
        assert {r["editor"] for r in csv.DictReader(f)} == set(editors)

    # the copy is identity up to the 8-bit rounding of the exported PNGs, pair by pair
    samples = _samples(out)
    ids = {sid for (ed, sid) in samples if ed == "identity"}
    assert len(ids) == N
    for sid in ids:
        ident, copy = samples[("identity", sid)], samples[("copy", sid)]
        assert copy["au_mae@aurig-robust"] == pytest.approx(ident["au_mae@aurig-robust"], abs=0.05)
        assert copy["id_cos@aurig-ref"] == pytest.approx(ident["id_cos@aurig-ref"], abs=1e-3)
        assert copy["ssim@exact"] == pytest.approx(ident["ssim@exact"], abs=2e-3)
        assert copy["psnr@exact"] == pytest.approx(ident["psnr@exact"], abs=0.3)
    m_ident, m_copy, m_warp = (editors[k]["metrics"] for k in ("identity", "copy", "warp"))
    fid = "fid@inception-v3-compat"
    assert m_copy[fid]["value"] == pytest.approx(m_ident[fid]["value"], rel=0.01)
    assert m_warp["psnr@exact"]["value"] < m_copy["psnr@exact"]["value"] - 3  # the edits are really read


def test_external_edits_are_the_sources_to_8bit_rounding(tmp_path):
    export_protocol(TINY_PROTOCOL, tmp_path, n_pairs=4)
    for src in (tmp_path / "sources").glob("*.png"):
        shutil.copy(src, tmp_path / "edited" / src.name)
    batch = build_pairs(TINY_PROTOCOL, 4).batch([0, 1, 2, 3])
    edited = ExternalEdits(tmp_path / "pairs.csv", "copy", TINY_PROTOCOL.resolution).edit_batch(batch).images
    assert torch.equal(edited, torch.floor(batch.source * 255 + 0.5) / 255)
    assert (edited - batch.source).abs().max() <= 0.5 / 255 + 1e-6


def test_export_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "x.txt").write_text("mine")
    assert main(["export", "--protocol", "tiny", "--out", str(tmp_path), "--no-progress"]) == 2


def test_external_errors_name_the_file_and_problem(tmp_path, capsys):
    export_protocol(TINY_PROTOCOL, tmp_path / "e")
    csv_path = tmp_path / "e" / "pairs.csv"
    with pytest.raises(ManifestError, match=r"pairs\.csv: 10 of 10 rows have no edited image, e\.g\. row 2"):
        ExternalEdits(csv_path, "mine", 16)
    for src in (tmp_path / "e" / "sources").glob("*.png"):
        shutil.copy(src, tmp_path / "e" / "edited" / src.name)

    info_path = tmp_path / "e" / "protocol.json"
    info = json.loads(info_path.read_text())
    info["protocol"]["version"] = 99
    info_path.write_text(json.dumps(info))
    run = ["compare", "--protocol", "tiny", "--external", f"mine={csv_path}", "--out", str(tmp_path / "r"),
           "--no-figures", "--no-progress"]  # fmt: skip
    assert main(run) == 2
    assert "exported from protocol tiny v99, but this run is tiny v1" in capsys.readouterr().err
    info["protocol"]["version"] = 1
    info_path.write_text(json.dumps(info))

    text = csv_path.read_text().splitlines()
    cells = text[3].split(",")
    cells[4] = "4.999" if cells[4] != "4.999000" else "0.5"  # AU01 of the third pair
    text[3] = ",".join(cells)
    csv_path.write_text("\n".join(text) + "\n")
    assert main(run) == 0
    entry = load_results(tmp_path / "r" / "results.json")["editors"]["mine"]
    recorded = json.dumps(entry) + (tmp_path / "r" / "samples.jsonl").read_text()
    assert "row 4 (pair 'tiny002'): its target AUs differ from the protocol's" in recorded
    assert entry["metrics"]["psnr@exact"]["n"] == 10 and entry["n_failed"] == 1  # scored worst


def test_evaluate_of_an_export_is_a_run_of_that_protocol(tmp_path):
    export_protocol(TINY_PROTOCOL, tmp_path / "e")
    for src in (tmp_path / "e" / "sources").glob("*.png"):
        shutil.copy(src, tmp_path / "e" / "edited" / src.name)
    out = tmp_path / "r"
    argv = ["evaluate", "--manifest", str(tmp_path / "e" / "pairs.csv"), "--name", "mine", "--protocol", "tiny",
            "--out", str(out), "--no-figures", "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    data = load_results(out / "results.json")
    assert data["protocol"]["name"] == "tiny" and data["protocol"]["version"] == 1
    assert list(data["editors"]) == ["mine"] and data["config"]["command"] == "evaluate"
    assert data["editors"]["mine"]["metrics"]["ssim@exact"]["n"] == 10  # ground truth of the protocol
