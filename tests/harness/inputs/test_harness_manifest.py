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


def _edit_cells(manifest, edits):
    """Set cells: ``{(data_row, column): value}`` (data_row 0 is the first row under the header)."""
    lines = manifest.read_text().splitlines()
    header = lines[0].split(",")
    for (row, column), value in edits.items():
        cells = lines[row + 1].split(",")
        cells[header.index(column)] = value
        lines[row + 1] = ",".join(cells)
    manifest.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("text", ["nan", "NaN", "NA", "null", "inf"])
def test_text_in_an_au_cell_is_refused_not_read_as_not_asked(tmp_path, text):
    manifest = _write_manifest(tmp_path, n=3)
    _edit_cells(manifest, {(1, "AU04"): text})
    with pytest.raises(ManifestError) as err:
        ManifestPairs(manifest, 16)
    message = str(err.value)
    assert "manifest.csv: row 3, column AU04: AU value" in message  # header is row 1, like AU files
    assert "leave the cell empty for 'not asked'" in message
    assert "np.float64" not in message and ("'inf'" not in message)  # numbers plainly: inf


def test_ids_empty_or_repeated_are_named_and_na_is_an_id(tmp_path):
    manifest = _write_manifest(tmp_path, n=4)
    _edit_cells(manifest, {(0, "id"): "NA", (1, "id"): "nan"})
    assert ManifestPairs(manifest, 16).ids[:2] == ["NA", "nan"]  # as written
    _edit_cells(manifest, {(2, "id"): ""})
    with pytest.raises(ManifestError, match=r"manifest\.csv: 1 empty id\(s\) in column 'id' \(row 4\)"):
        ManifestPairs(manifest, 16)
    _edit_cells(manifest, {(2, "id"): "NA", (3, "id"): "nan"})
    with pytest.raises(
        ManifestError, match=r"2 duplicated id\(s\) in column 'id': 'NA' in rows 2, 4; 'nan' in rows 3, 5"
    ):
        ManifestPairs(manifest, 16)


def test_repeated_rows_are_warned_and_a_folder_source_is_named(tmp_path, capsys):
    manifest = _write_manifest(tmp_path, n=4)
    _edit_cells(manifest, {(2, "source"): "s0.png", (2, "edited"): "e0.png", (2, "target"): "t0.png"})
    pairs = ManifestPairs(manifest, 16)
    assert len(pairs) == 4  # scored as listed ...
    out = capsys.readouterr().out
    assert "manifest.csv: 1 row(s) repeat another row" in out and "rows 2, 4" in out  # ... and said
    (tmp_path / "faces").mkdir()
    _edit_cells(manifest, {(1, "source"): "faces"})
    with pytest.raises(ManifestError, match=r"row 3: source file .*faces is a folder, not an image file"):
        ManifestPairs(manifest, 16)


def test_an_external_system_cannot_take_a_built_in_editors_name(tmp_path, capsys):
    manifest = _write_manifest(tmp_path, n=2)
    for name in ("identity", "two-stage", "two-stage.s2"):
        argv = ["evaluate", "--manifest", str(manifest), "--name", name, "--protocol", "tiny",
                "--out", str(tmp_path / "r")]  # fmt: skip
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert f"--name {name}: {name!r} is the name of the built-in editor" in err
        argv = [
            "compare",
            "--protocol",
            "tiny",
            "--external",
            f"{name}={manifest}",
            "--out",
            str(tmp_path / "r"),
        ]
        assert main(argv) == 2
        assert (
            f"--external {name}={manifest}: {name!r} is the name of the built-in editor"
            in capsys.readouterr().err
        )
    assert not (tmp_path / "r").exists()
