"""Training data problems are said out loud; CSVs survive any file name; dataset args stay text."""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from faceedit_bench.config import ConfigError, add_config_arguments, build_config, call_with_options
from faceedit_bench.data.aus_io import AUFileError, read_au_file, write_au_csv
from faceedit_bench.data.folder import ImageFolderDataset
from faceedit_bench.training.config import TrainConfig
from faceedit_bench.training.loop import build_dataset

ODD_NAMES = ["a,b.png", " lead.png", "trail .png", 'q"uote.png', "001.png", "NA.png", "üni code.png"]


def _images(root: Path, names: list[str], broken: list[str] = ()) -> Path:
    (root / "imgs").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in names:
        Image.fromarray(rng.integers(0, 255, (12, 12, 3), dtype=np.uint8)).save(root / "imgs" / name, "PNG")
    for name in broken:
        (root / "imgs" / name).write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    return root


def test_au_csv_round_trips_any_file_name(tmp_path):
    aus = torch.rand(len(ODD_NAMES), 17) * 5
    aus[:, 4] = float("nan")  # an AU the annotator cannot see
    write_au_csv(tmp_path / "aus.csv", ODD_NAMES, aus)
    table = read_au_file(tmp_path / "aus.csv")
    assert list(table) == ODD_NAMES
    got = torch.stack([table[n] for n in ODD_NAMES])
    torch.testing.assert_close(got, aus, atol=1e-4, rtol=0, equal_nan=True)


def test_a_folder_with_odd_names_reads_its_annotation_back(tmp_path):
    root = _images(tmp_path / "faces", ODD_NAMES)
    write_au_csv(root / "aus.csv", ODD_NAMES, torch.ones(len(ODD_NAMES), 17))
    ds = ImageFolderDataset(root, split="all", resolution=8, crop=False)
    assert sorted(ds.names) == sorted(ODD_NAMES) and ds.n_skipped == 0


def test_au_files_without_a_usable_label_are_rejected_naming_the_file(tmp_path):
    write_au_csv(tmp_path / "nan.csv", ["a.png", "b.png"], torch.full((2, 17), float("nan")))
    with pytest.raises(AUFileError, match=re.escape(str(tmp_path / "nan.csv")) + ".*no usable label"):
        read_au_file(tmp_path / "nan.csv")
    write_au_csv(tmp_path / "empty.csv", [], torch.zeros(0, 17))
    with pytest.raises(AUFileError, match=re.escape(str(tmp_path / "empty.csv")) + ": no rows"):
        read_au_file(tmp_path / "empty.csv")


def test_skipped_images_are_reported_and_strict_fails(tmp_path, capsys):
    good = [f"g{i}.png" for i in range(6)]
    bad = [f"bad{i}.png" for i in range(5)]
    root = _images(tmp_path / "faces", good, bad)
    write_au_csv(root / "aus.csv", good + bad, torch.ones(11, 17))
    ds = ImageFolderDataset(root, split="all", resolution=8, crop=False)
    assert len(ds) == 6
    out = capsys.readouterr().out
    assert "skipped 5 of 11 images (0 without a face, 5 unreadable)" in out and "bad0.png" in out
    assert "and 2 more" in out
    with pytest.raises(ValueError, match=r"strict: .*skipped 5 of 11"):
        ImageFolderDataset(root, split="all", resolution=8, crop=False, strict=True)
    args = {"root": str(root), "crop": "no"}  # text, as --dataset-args gives it
    config = build_config(
        TrainConfig, editor="two-stage", dataset="image-folder", dataset_args=args, strict=True
    )
    with pytest.raises(ConfigError, match=r"--strict: .*skipped 5 of 11 .*bad0\.png"):
        build_dataset(config, "all")
    config = build_config(TrainConfig, editor="two-stage", dataset="image-folder", dataset_args=args)
    assert len(build_dataset(config, "all")) == 6


def _train_args(*words: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, TrainConfig)
    return parser.parse_args(["--editor", "two-stage", *words])


def test_dataset_args_are_text_unless_the_parameter_says_otherwise(tmp_path):
    config = build_config(
        TrainConfig,
        _train_args(
            "--dataset",
            "image-folder",
            "--dataset-args",
            "root=yes",
            "aus=faces #1",
            "crop=no",
            "--loss-weights",
            "lambda_flow_tv=0",
        ),
    )
    assert config.dataset_args == {"root": "yes", "aus": "faces #1", "crop": "no"}
    assert type(config.loss_weights["lambda_flow_tv"]) is float  # typed by the option: dict[str, float]
    with pytest.raises(FileNotFoundError, match="yes: no such image folder"):
        build_dataset(config, "all")  # a clear error, not a TypeError on a bool

    seen = {}

    def factory(root: str, resolution: int = 8, crop: bool = True, split: str = "x") -> None:
        seen.update(root=root, resolution=resolution, crop=crop, split=split)

    call_with_options(
        factory, {"root": "yes", "resolution": "16", "crop": "off", "split": "1"}, "--dataset-args"
    )
    assert seen == {"root": "yes", "resolution": 16, "crop": False, "split": "1"}
    with pytest.raises(ConfigError, match="--dataset-args: option 'resolution' = 'big' is not a valid int"):
        call_with_options(factory, {"root": "r", "resolution": "big"}, "--dataset-args")
    with pytest.raises(ConfigError, match=r"unknown key.* colour; known: root, resolution, crop, split"):
        call_with_options(factory, {"root": "r", "colour": "red"}, "--dataset-args")


def test_annotate_writes_odd_names_and_reports_a_group_photo(tmp_path):
    from faceedit_bench.annotate import annotate_folder
    from faceedit_bench.backends.au_mediapipe import MediaPipeAUDetector
    from faceedit_bench.data.embedded import MULTI_FACE, PORTRAITS, pyfeat_file

    if not MediaPipeAUDetector.availability().usable:
        pytest.skip("mediapipe bundle missing")
    root = tmp_path / "faces"
    (root / "imgs").mkdir(parents=True)
    shutil.copy(pyfeat_file(MULTI_FACE), root / "imgs" / "group, six people.jpg")
    shutil.copy(pyfeat_file(PORTRAITS["happy"]), root / "imgs" / " lead.jpg")
    summary = annotate_folder(root, "mediapipe", root / "aus.csv")
    assert summary.written == 2 and not summary.no_face
    assert len(summary.multi_face) == 1 and "group, six people.jpg" in summary.multi_face[0]
    assert "1 with several faces (the largest annotated)" in summary.line()
    table = read_au_file(root / "aus.csv")
    assert set(table) == {"group, six people.jpg", " lead.jpg"}
    assert all(
        torch.isnan(row[[4, 6]]).all() and torch.isfinite(row[8]) for row in table.values()
    )  # AU06, AU09
    ds = ImageFolderDataset(root, split="all", resolution=32)
    assert sorted(ds.names) == sorted(table) and ds.n_skipped == 0


def test_tables_say_which_aus_a_detector_leaves_out():
    from faceedit_bench.reports.au_coverage import au_coverage_notes

    results = {
        "backends": {
            "au_detector": {
                "label": "mediapipe-bs",
                "provenance": {"measured_aus": ["AU01"] * 15, "unmeasured_aus": ["AU06", "AU09"]},
            },
            "identity": {"label": "dlib", "provenance": {}},
        }
    }
    (note,) = au_coverage_notes(results)
    assert note.startswith("mediapipe-bs measures 15 of 17 AUs; not AU06, AU09")
    results["backends"]["au_detector"]["provenance"]["unmeasured_aus"] = []
    assert au_coverage_notes(results) == []
