"""Bad input: each case is a clear error naming the file and the problem, or a counted skip."""

from __future__ import annotations

import shutil
import struct
import zlib
from pathlib import Path

import pytest
import torch

from faceedit_bench.data.aus_io import AUFileError, read_au_file, write_au_csv
from faceedit_bench.data.embedded import NO_FACE_IMAGE, PORTRAITS, pyfeat_file
from faceedit_bench.data.folder import ImageFolderDataset
from faceedit_bench.data.images import ImageReadError, read_image

HEADER = "name," + ",".join(
    f"AU{n}_r"
    for n in (
        "01",
        "02",
        "04",
        "05",
        "06",
        "07",
        "09",
        "10",
        "12",
        "14",
        "15",
        "17",
        "20",
        "23",
        "25",
        "26",
        "45",
    )
)


def _csv(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def _row(name: str, value: str = "1.0") -> str:
    return ",".join([name, *([value] * 17)])


def _folder(tmp_path: Path, names: dict[str, str]) -> Path:
    """A dataset folder with the given portraits (label -> file name to use)."""
    root = tmp_path / "faces"
    (root / "imgs").mkdir(parents=True)
    for label, name in names.items():
        shutil.copy(pyfeat_file(PORTRAITS[label]), root / "imgs" / name)
    return root


def test_truncated_jpeg_names_the_file(tmp_path: Path) -> None:
    data = pyfeat_file(PORTRAITS["happy"]).read_bytes()
    bad = tmp_path / "cut.jpg"
    bad.write_bytes(data[: len(data) // 3])
    with pytest.raises(ImageReadError, match=r"cut\.jpg: corrupt or truncated"):
        read_image(bad)


def test_garbage_file_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "noise.png"
    bad.write_bytes(b"\x00not an image at all")
    with pytest.raises(ImageReadError, match=r"noise\.png: not a readable image"):
        read_image(bad)


def test_huge_image_is_refused_before_decoding(tmp_path: Path) -> None:
    # A PNG whose header claims 10000x6000 (60 MP): refused from the header, nothing decoded.
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", 10000, 6000, 8, 2, 0, 0, 0)
    path = tmp_path / "huge.png"
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    with pytest.raises(ImageReadError, match=r"huge\.png: 10000x6000 \(60 MP\) exceeds the 50 MP limit"):
        read_image(path)


def test_missing_au_columns_are_listed(tmp_path: Path) -> None:
    header = HEADER.replace(",AU12_r", "").replace(",AU45_r", "")
    path = _csv(tmp_path / "aus.csv", [",".join(["a.jpg", *(["1"] * 15)])], header)
    with pytest.raises(AUFileError, match=r"aus\.csv: missing AU columns AU12_r, AU45_r"):
        read_au_file(path)


def test_nan_value_names_row_and_column(tmp_path: Path) -> None:
    cells = ["1.0"] * 17
    cells[8] = ""  # AU12_r empty in row 3 (the header is row 1) while row 2 has a value
    path = _csv(tmp_path / "aus.csv", [_row("a.jpg"), ",".join(["b.jpg", *cells])])
    with pytest.raises(AUFileError, match=r"aus\.csv: row 3, column AU12_r: missing value"):
        read_au_file(path)


def test_out_of_range_value_names_row_column_and_value(tmp_path: Path) -> None:
    path = _csv(tmp_path / "aus.csv", [_row("a.jpg"), _row("b.jpg", "7.5")])
    with pytest.raises(AUFileError, match=r"aus\.csv: row 3, column AU01_r: value 7\.5 outside \[0, 5\]"):
        read_au_file(path)


def test_text_in_au_column_is_reported(tmp_path: Path) -> None:
    path = _csv(tmp_path / "aus.csv", [_row("a.jpg", "high")])
    with pytest.raises(AUFileError, match=r"row 2, column AU01_r: not a number \('high'\)"):
        read_au_file(path)


def test_duplicated_names_are_listed(tmp_path: Path) -> None:
    path = _csv(tmp_path / "aus.csv", [_row("a.jpg"), _row("b.jpg"), _row("a.jpg")])
    with pytest.raises(AUFileError, match=r"aus\.csv: duplicated names a\.jpg"):
        read_au_file(path)


def test_file_named_in_csv_but_missing_on_disk(tmp_path: Path) -> None:
    root = _folder(tmp_path, {"happy": "happy.jpg"})
    aus = _csv(root / "aus.csv", [_row("happy.jpg"), _row("gone.jpg")])
    with pytest.raises(FileNotFoundError, match=r"aus\.csv: names images missing from .*imgs: gone\.jpg"):
        ImageFolderDataset(root, aus=aus, split="all")


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"empty: empty folder"):
        ImageFolderDataset(tmp_path / "empty", split="all")


def test_folder_without_au_file_says_how_to_make_one(tmp_path: Path) -> None:
    root = _folder(tmp_path, {"happy": "happy.jpg"})
    with pytest.raises(FileNotFoundError, match="faceedit-bench annotate"):
        ImageFolderDataset(root, split="all")


def test_corrupt_and_faceless_images_are_counted_skips(tmp_path: Path) -> None:
    root = _folder(tmp_path, {"happy": "happy.jpg", "anger": "anger.jpg"})
    shutil.copy(pyfeat_file(NO_FACE_IMAGE), root / "imgs" / "mountain.jpg")
    (root / "imgs" / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    names = ["happy.jpg", "anger.jpg", "mountain.jpg", "broken.jpg"]
    write_au_csv(root / "aus.csv", names, torch.ones(4, 17))
    ds = ImageFolderDataset(root, split="all", resolution=32)
    assert ds.names == ["anger.jpg", "happy.jpg"]
    assert ds.n_skipped == 2
    assert "mountain.jpg: no face found" in ds.skipped["no_face"][0]
    assert "broken.jpg" in ds.skipped["unreadable"][0]


def test_only_faceless_images_is_an_error(tmp_path: Path) -> None:
    root = tmp_path / "faces"
    root.mkdir()
    shutil.copy(pyfeat_file(NO_FACE_IMAGE), root / "mountain.jpg")
    write_au_csv(root / "aus.csv", ["mountain.jpg"], torch.ones(1, 17))
    with pytest.raises(ValueError, match=r"faces: no usable face images .*\(1 without a face"):
        ImageFolderDataset(root, split="all", resolution=32)


def test_video_frames_without_a_face_are_counted_skips() -> None:
    from faceedit_bench.data.video import VideoDataset

    ds = VideoDataset(videos=("noface_face.mov",), resolution=32, detector="mediapipe", frame_stride=12)
    assert len(ds) > 0 and ds.skipped > 0 and len(ds) + ds.skipped == 15  # 169 frames, every 12th


def test_video_without_any_face_is_an_error() -> None:
    from faceedit_bench.data.video import VideoDataset

    with pytest.raises(ValueError, match=r"no_face\.mp4: no face found in any of 7 frames"):
        VideoDataset(videos=("no_face.mp4",), resolution=32, detector="mediapipe", frame_stride=15)


def test_corrupt_video_names_the_file(tmp_path: Path) -> None:
    from faceedit_bench.data.frames import VideoReadError, read_frames

    bad = tmp_path / "clip.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42 but nothing else")
    with pytest.raises(VideoReadError, match=r"clip\.mp4: OpenCV cannot open this video"):
        read_frames(bad, [0])


def test_huge_image_message_gives_the_command_line_way(tmp_path: Path, monkeypatch) -> None:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", 8000, 8000, 8, 2, 0, 0, 0)
    path = tmp_path / "huge.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b""))
    with pytest.raises(ImageReadError) as err:
        read_image(path)
    assert "--downscale-huge (score, annotate)" in str(err.value)
    assert "FACEEDIT_BENCH_DOWNSCALE_HUGE=1 for any command" in str(err.value)
    monkeypatch.setenv("FACEEDIT_BENCH_DOWNSCALE_HUGE", "1")  # honoured: past the size check
    with pytest.raises(ImageReadError, match="corrupt or truncated"):
        read_image(path)
