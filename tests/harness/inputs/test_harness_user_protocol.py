"""Your own data as a protocol: `compare --dataset image-folder --dataset-args root=DIR ...` or a YAML file."""

import shutil

import pytest
import torch

from faceedit_bench.cli.main import main
from faceedit_bench.config import ConfigError
from faceedit_bench.data.aus_io import write_au_csv
from faceedit_bench.data.embedded import PORTRAITS, pyfeat_file
from faceedit_bench.harness.outputs.results import load_results
from faceedit_bench.protocols import load_protocol_file, user_protocol


def test_user_protocol_names_the_data_and_uses_real_face_judges(tmp_path):
    a = user_protocol("image-folder", {"root": str(tmp_path), "n_pairs": 8})
    b = user_protocol("image-folder", {"root": str(tmp_path), "n_pairs": 8})
    c = user_protocol("image-folder", {"root": str(tmp_path), "n_pairs": 9})
    assert a.name == b.name != c.name and a.name.startswith("image-folder-")
    assert a.backends["au_detector"] == ("pyfeat-xgb", "mediapipe") and a.pair_recipe == "ganimation"
    assert a.dataset_args == {"root": str(tmp_path.resolve()), "resolution": 64} and a.split == "all"
    assert user_protocol("aurig", {"name": "mine"}).backends["au_detector"] == ("aurig-robust",)
    assert user_protocol("aurig", {"name": "mine"}).backends["au_detector_2"] == ("aurig-gn",)


def test_protocol_yaml_file(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(
        "dataset: image-folder\ndataset_args: {root: faces}\nname: my-faces\nn_pairs: 12\nversion: 3\n"
    )
    p = load_protocol_file(path)
    assert (p.name, p.version, p.n_pairs) == ("my-faces", 3, 12)
    path.write_text("dataset: image-folder\nroot: faces\n")
    with pytest.raises(ConfigError, match=r"p\.yaml: unknown key\(s\) root"):
        load_protocol_file(path)


def test_compare_on_a_folder_of_your_faces(tmp_path):
    faces = tmp_path / "faces"
    faces.mkdir()
    names = []
    for label in ("happy", "anger", "surprise"):
        shutil.copy(pyfeat_file(PORTRAITS[label]), faces / f"{label}.jpg")
        names.append(f"{label}.jpg")
    write_au_csv(faces / "aus.csv", names, torch.rand(3, 17) * 3)
    out = tmp_path / "run"
    argv = ["compare", "--dataset", "image-folder", "--dataset-args", f"root={faces}", "n_pairs=4",
            "resolution=32", "name=my-faces", "--editors", "identity", "--lpips", "stlpips-alex",
            "--out", str(out), "--no-figures", "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    data = load_results(out / "results.json")
    p = data["protocol"]
    assert (p["name"], p["dataset"], p["n_pairs_evaluated"], p["has_ground_truth"]) == (
        "my-faces",
        "image-folder",
        4,
        False,
    )
    assert p["dataset_args"]["root"] == str(faces.resolve()) and p["pair_recipe"] == "ganimation"
    metrics = data["editors"]["identity"]["metrics"]
    assert any(k.startswith("au_mae@") for k in metrics) and not any(k.startswith("psnr@") for k in metrics)
    assert data["backends"]["au_detector"]["name"] != "aurig-ref"
