"""`evaluate --manifest`: scoring edits made by a system we cannot run."""

import numpy as np
import pytest
from PIL import Image

from faceedit_bench.api.aus import AU_NAMES
from faceedit_bench.cli.main import main
from faceedit_bench.harness.inputs.manifest import ManifestError, ManifestPairs
from faceedit_bench.harness.outputs.results import load_results


def _write_manifest(folder, n=5, bad_row=None, missing=None):
    rng = np.random.default_rng(0)
    rows = ["source,edited,target,id," + ",".join(AU_NAMES)]
    for i in range(n):
        src = rng.integers(0, 255, (24, 20, 3), dtype=np.uint8)  # not square: centre-cropped
        Image.fromarray(src).save(folder / f"s{i}.png")
        Image.fromarray(src).save(folder / f"t{i}.png")
        Image.fromarray(255 - src).convert("L").save(folder / f"e{i}.png")  # grayscale input
        aus = ["1.5"] * 17
        if bad_row == i:
            aus[3] = "7"
        edited = "nope.png" if missing == i else f"e{i}.png"
        rows.append(f"s{i}.png,{edited},t{i}.png,pair{i}," + ",".join(aus))
    path = folder / "manifest.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_manifest_run_scores_the_edits(tmp_path):
    manifest = _write_manifest(tmp_path)
    out = tmp_path / "run"
    argv = ["evaluate", "--manifest", str(manifest), "--name", "mysys", "--protocol", "tiny",
            "--out", str(out), "--no-figures", "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    data = load_results(out / "results.json")
    assert data["protocol"]["name"] == "manifest"
    metrics = data["editors"]["mysys"]["metrics"]
    assert metrics["psnr@exact"]["n"] == 5
    assert metrics["psnr@exact"]["value"] < 15  # inverted images are far from the truth


def test_manifest_errors_name_file_row_and_column(tmp_path):
    (tmp_path / "a").mkdir()
    with pytest.raises(ManifestError, match=r"manifest\.csv: row 4, column AU05: AU value"):
        ManifestPairs(_write_manifest(tmp_path / "a", bad_row=2), 16)
    (tmp_path / "b").mkdir()
    with pytest.raises(ManifestError, match=r"row 3: edited file .*nope\.png does not exist"):
        ManifestPairs(_write_manifest(tmp_path / "b", missing=1), 16)
    cut = tmp_path / "cut.csv"
    cut.write_text("source,edited,AU01\nx.png,y.png,1\n")
    with pytest.raises(ManifestError, match=r"cut\.csv: missing AU column AU02"):
        ManifestPairs(cut, 16)


def test_evaluate_needs_exactly_one_source(capsys):
    assert main(["evaluate", "--protocol", "tiny"]) == 2
    assert "exactly one of --editor or --manifest" in capsys.readouterr().err


def test_au_scale_one_and_empty_cells_mean_not_asked(tmp_path, capsys):
    manifest = _write_manifest(tmp_path, n=2)
    text = manifest.read_text().replace(",1.5", ",0.2")
    lines = text.splitlines()
    cells = lines[1].split(",")
    cells[4] = ""  # AU01 of the first pair: not asked
    lines[1] = ",".join(cells)
    manifest.write_text("\n".join(lines) + "\n")
    default = ManifestPairs(manifest, 16)
    assert "pass --au-scale 1" in capsys.readouterr().out  # 0-1 values read as 0-5: warned
    assert float(default.target_aus[1, 0]) == pytest.approx(0.2)
    fex = ManifestPairs(manifest, 16, au_scale=1)
    assert float(fex.target_aus[1, 0]) == pytest.approx(1.0)
    assert np.isnan(float(fex.target_aus[0, 0])) and not np.isnan(fex.target_aus[0, 1:]).any()
    with pytest.raises(
        ManifestError, match=r"row 2, column AU02: AU value '0\.2x' is not a number in \[0, 1\]"
    ):
        manifest.write_text(manifest.read_text().replace(",0.2,", ",0.2x,", 1))
        ManifestPairs(manifest, 16, au_scale=1)


def test_manifest_paths_stay_in_the_csv_folder(tmp_path):
    from faceedit_bench.harness.inputs.manifest import ExternalEdits

    folder = tmp_path / "m"
    folder.mkdir()
    manifest = _write_manifest(folder, n=2)
    Image.new("RGB", (8, 8)).save(tmp_path / "outside.png")
    (folder / "link.png").symlink_to(tmp_path / "outside.png")
    text = manifest.read_text()
    for cell, column, why in (
        (str(tmp_path / "outside.png"), "edited", "is absolute"),
        ("../outside.png", "edited", "leaves the CSV's folder"),
        ("sub/../../outside.png", "edited", "leaves the CSV's folder"),
        ("link.png", "edited", "leaves the CSV's folder"),  # a symlink out of it
    ):
        manifest.write_text(text.replace("e1.png", cell))
        with pytest.raises(ManifestError, match=rf"manifest\.csv: row 3, column {column}: path .* {why}"):
            ManifestPairs(manifest, 16)
    manifest.write_text(text.replace("t0.png", "../outside.png"))
    with pytest.raises(ManifestError, match=r"row 2, column target: path '\.\./outside\.png' leaves"):
        ManifestPairs(manifest, 16)
    (folder / "sub").mkdir()
    manifest.write_text(text.replace("s0.png", "sub/../s0.png"))  # `..` that stays inside: fine
    assert len(ManifestPairs(manifest, 16)) == 2

    pairs = folder / "pairs.csv"  # an export's pairs.csv: the same rule for `edited`
    pairs.write_text(f"id,edited\ntiny000,{tmp_path / 'outside.png'}\n")
    with pytest.raises(ManifestError, match=r"pairs\.csv: row 2, column edited: path .* is absolute"):
        ExternalEdits(pairs, "mine", 16)
