"""Exporting a video's frames: nothing is left behind by a file that is not a video."""

from __future__ import annotations

from pathlib import Path

import pytest

from faceedit_bench.data.frames import VideoReadError, export_frames


def test_a_fake_video_leaves_no_frames_folder(tmp_path: Path) -> None:
    fake = tmp_path / "fake.mp4"
    fake.write_text("not a video")
    out = tmp_path / "fake_frames"
    with pytest.raises(VideoReadError, match=r"fake\.mp4: OpenCV cannot open this video"):
        export_frames(fake, out, 5)
    assert not out.exists()
    with pytest.raises(FileNotFoundError, match=r"none\.mp4: no such video file"):
        export_frames(tmp_path / "none.mp4", out, 5)
    assert not out.exists()
