"""AU readers on py-feat's shipped OpenFace and Fex tables, GANimation pickles, and the writer."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from faceedit_bench.api.aus import au_index
from faceedit_bench.data.aus_io import AUFileError, read_au_file, write_au_csv
from faceedit_bench.data.embedded import FEX_CSV, OPENFACE_CSV, pyfeat_file


def test_openface_csv_frames_and_values() -> None:
    table = read_au_file(pyfeat_file(OPENFACE_CSV))
    assert len(table) == 100 and list(table)[:2] == ["1", "2"]
    first = table["1"]
    assert first.shape == (17,) and not torch.isnan(first).any()
    assert float(first[au_index("AU01")]) == pytest.approx(0.6773, abs=1e-4)  # AU01_r of frame 1
    assert float(first[au_index("AU45")]) == pytest.approx(0.02348, abs=1e-4)
    assert all(float(v.min()) >= 0 and float(v.max()) <= 5 for v in table.values())


def test_fex_csv_is_scaled_by_five_and_has_no_au45() -> None:
    table = read_au_file(pyfeat_file(FEX_CSV))
    assert list(table) == ["single_face.jpg"]
    row = table["single_face.jpg"]
    import pandas as pd

    raw = pd.read_csv(pyfeat_file(FEX_CSV))
    assert float(row[au_index("AU12")]) == pytest.approx(5 * float(raw["AU12"].iloc[0]), abs=1e-4)
    assert math.isnan(float(row[au_index("AU45")]))


def test_fex_video_csv_rows_are_named_by_frame() -> None:
    table = read_au_file(pyfeat_file("001.csv"))
    assert len(table) == 40 and "0" in table and "39" in table


def test_ganimation_pickle_round_trip(tmp_path: Path) -> None:
    data = {"N_0000000356_00190": np.linspace(0, 5, 17), "N_0000000356_00191": np.zeros(17, np.float32)}
    path = tmp_path / "aus_openface.pkl"
    path.write_bytes(pickle.dumps(data, protocol=2))
    table = read_au_file(path)
    assert set(table) == set(data)
    assert torch.allclose(table["N_0000000356_00190"], torch.linspace(0, 5, 17))


def test_pickle_with_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "aus_openface.pkl"
    path.write_bytes(pickle.dumps({"a": Path("/etc")}))
    with pytest.raises(AUFileError, match="refusing to load"):
        read_au_file(path)


def test_writer_round_trip_keeps_unseen_au_as_nan(tmp_path: Path) -> None:
    aus = torch.rand(3, 17) * 5
    aus[:, au_index("AU45")] = float("nan")  # e.g. py-feat cannot see blinks
    path = tmp_path / "aus.csv"
    write_au_csv(path, ["a.jpg", "b.jpg", "c.png"], aus)
    back = read_au_file(path)
    assert list(back) == ["a.jpg", "b.jpg", "c.png"]
    got = torch.stack(list(back.values()))
    assert torch.allclose(torch.nan_to_num(got, 9), torch.nan_to_num(aus, 9), atol=1e-4)
    assert not list(tmp_path.glob(".*tmp"))  # atomic: no temp file left behind


def test_openface_per_image_folder_uses_the_most_confident_face(tmp_path: Path) -> None:
    header = "face, confidence, " + ", ".join(f"AU{n}_r" for n in (
        "01", "02", "04", "05", "06", "07", "09", "10", "12", "14", "15", "17", "20", "23", "25", "26", "45"))  # fmt: skip
    (tmp_path / "img_001.csv").write_text(header + "\n0, 0.98, " + ", ".join(["2.0"] * 17) + "\n")
    (tmp_path / "img_002.csv").write_text(
        header + "\n0, 0.40, " + ", ".join(["1.0"] * 17) + "\n1, 0.90, " + ", ".join(["3.0"] * 17) + "\n"
    )
    table = read_au_file(tmp_path)
    assert list(table) == ["img_001", "img_002"]
    assert float(table["img_001"][0]) == 2.0 and float(table["img_002"][0]) == 3.0
    (tmp_path / "img_003.csv").write_text(header.replace(", AU26_r", "") + "\n")
    with pytest.raises(AUFileError, match=r"img_003\.csv: missing AU columns AU26_r"):
        read_au_file(tmp_path)
