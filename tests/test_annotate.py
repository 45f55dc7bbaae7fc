"""annotate: messages that say what is wrong, and video frames written where the user asked or the cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from faceedit_bench.annotate import AnnotateSummary, annotate_folder
from faceedit_bench.cli.annotate import frames_folder
from faceedit_bench.cli.main import main
from faceedit_bench.data.embedded import pyfeat_file


def test_annotate_on_a_file_says_it_is_a_file(tmp_path: Path, capsys) -> None:
    image = tmp_path / "face.png"
    image.write_bytes(b"x")
    assert main(["annotate", str(image), "--detector", "mediapipe"]) == 2
    err = capsys.readouterr().err
    assert f"{image}: is a file, not a folder of face images" in err and "no such folder" not in err
    assert main(["annotate", str(tmp_path / "none.mp4")]) == 2
    assert "none.mp4: no such video file" in capsys.readouterr().err
    fake = tmp_path / "fake.mp4"
    fake.write_text("not a video")
    assert main(["annotate", str(fake), "--out", str(tmp_path / "out" / "aus.csv")]) == 2
    assert "fake.mp4: OpenCV cannot open this video" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() and sorted(p.name for p in tmp_path.iterdir()) == [
        "face.png",
        "fake.mp4",
    ]


def test_unreadable_only_folder_says_unreadable_not_no_face(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"not a png")
    (tmp_path / "b.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(ValueError) as err:
        annotate_folder(tmp_path, "mediapipe", tmp_path / "aus.csv")
    message = str(err.value)
    assert "2 of 2 images unreadable" in message and "a.png" in message
    assert "without a face" not in message and not (tmp_path / "aus.csv").exists()


def test_images_with_several_faces_are_named() -> None:
    summary = AnnotateSummary(written=3, detector="mediapipe", out_csv=Path("aus.csv"),
                              multi_face=["dir/group.jpg: 3 faces; annotated the largest"],
                              unreadable=["dir/bad.png: not a readable image"])  # fmt: skip
    notes = summary.notes()
    assert "  several faces: dir/group.jpg: 3 faces; annotated the largest" in notes
    assert "  unreadable: dir/bad.png: not a readable image" in notes
    many = AnnotateSummary(written=0, no_face=[f"f{i}.png: no face found" for i in range(12)])
    assert many.notes(limit=10)[-1] == "  no face: ... and 2 more"


def test_video_frames_never_go_beside_the_video(tmp_path: Path, monkeypatch) -> None:
    video = tmp_path / "site-packages" / "clip.mp4"
    video.parent.mkdir()
    video.write_bytes(b"v")
    monkeypatch.setenv("FACEEDIT_BENCH_CACHE", str(tmp_path / "cache"))
    cached = frames_folder(video, None, None)
    assert cached.parent == tmp_path / "cache" / "frames" and cached.name.startswith("clip-")
    assert frames_folder(video, None, tmp_path / "mine" / "aus.csv") == tmp_path / "mine" / "clip_frames"
    assert frames_folder(video, tmp_path / "f", tmp_path / "mine" / "aus.csv") == tmp_path / "f"


def test_cli_annotates_an_installed_video_into_the_cache(tmp_path: Path, monkeypatch, capsys) -> None:
    video = tmp_path / "pkg" / "single_face.mp4"
    video.parent.mkdir()
    shutil.copy(pyfeat_file("single_face.mp4"), video)
    monkeypatch.setenv("FACEEDIT_BENCH_CACHE", str(tmp_path / "cache"))
    assert main(["annotate", str(video), "--stride", "70", "--detector", "mediapipe"]) == 0
    assert sorted(p.name for p in video.parent.iterdir()) == ["single_face.mp4"]  # nothing beside it
    frames = next((tmp_path / "cache" / "frames").iterdir())
    assert (frames / "aus.csv").is_file() and len(list(frames.glob("*.png"))) == 2
    assert str(frames) in capsys.readouterr().out
