"""py-feat Fex CSVs: written by `annotate --format fex`, read back by the same loaders as OpenFace CSVs."""

import shutil

import numpy as np
import pytest
import torch

from faceedit_bench.api.aus import AU_NAMES
from faceedit_bench.cli.main import main
from faceedit_bench.data.aus_io import read_au_file
from faceedit_bench.data.fex_io import write_fex_csv


def test_fex_round_trip_keeps_values_and_unseen_columns(tmp_path):
    aus = torch.rand(3, 17) * 5
    aus[:, AU_NAMES.index("AU45")] = float("nan")  # a detector that cannot see AU45
    path = tmp_path / "fex.csv"
    write_fex_csv(path, ["a.png", "b, c.png", "d.png"], aus)
    header = path.read_text().splitlines()[0]
    assert header == "input," + ",".join(AU_NAMES)
    table = read_au_file(path)
    got = torch.stack([table[n] for n in ("a.png", "b, c.png", "d.png")])
    assert torch.allclose(got[:, :16], aus[:, :16], atol=5e-6 * 5)
    assert torch.isnan(got[:, 16]).all()


def test_fex_loads_in_pyfeat(tmp_path):
    io = pytest.importorskip("feat.utils.io")
    aus = torch.full((2, 17), 2.5)
    write_fex_csv(tmp_path / "fex.csv", ["a.png", "b.png"], aus)
    fex = io.read_feat(str(tmp_path / "fex.csv"))
    assert list(fex.aus.columns) == list(AU_NAMES)
    assert np.allclose(fex.aus.to_numpy(), 0.5)


def test_annotate_format_fex_matches_openface_output(tmp_path, capsys):
    from faceedit_bench.data.embedded import PORTRAITS, pyfeat_file

    faces = tmp_path / "faces"
    faces.mkdir()
    for label in ("happy", "anger"):
        shutil.copy(pyfeat_file(PORTRAITS[label]), faces / f"{label}.jpg")
    assert main(["annotate", str(faces), "--detector", "mediapipe", "--out", str(tmp_path / "of.csv")]) == 0
    assert main(["annotate", str(faces), "--detector", "mediapipe", "--format", "fex",
                 "--out", str(tmp_path / "fex.csv")]) == 0  # fmt: skip
    assert (tmp_path / "fex.csv").read_text().startswith("input,AU01,AU02")
    openface, fex = read_au_file(tmp_path / "of.csv"), read_au_file(tmp_path / "fex.csv")
    assert set(openface) == set(fex) == {"happy.jpg", "anger.jpg"}
    for name in openface:
        assert torch.allclose(openface[name], fex[name], atol=1e-3, equal_nan=True)
