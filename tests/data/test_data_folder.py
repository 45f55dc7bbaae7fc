"""annotate -> ImageFolderDataset end to end on real faces; splits; GANimation layout; pairs."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from faceedit_bench.annotate import annotate_folder
from faceedit_bench.api.aus import au_index
from faceedit_bench.cli.main import main
from faceedit_bench.data.aus_io import read_au_file
from faceedit_bench.data.embedded import PORTRAITS, pyfeat_file
from faceedit_bench.data.folder import ImageFolderDataset
from faceedit_bench.data.frames import read_frames
from faceedit_bench.data.images import to_uint8_hwc


@pytest.fixture(scope="module")
def portraits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("portraits")
    for label, name in PORTRAITS.items():
        shutil.copy(pyfeat_file(name), root / f"{label}.jpg")
    return root


def test_cli_annotate_then_dataset_reads_it_back(portraits: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = portraits / "aus.csv"
    assert main(["annotate", str(portraits), "--detector", "mediapipe", "--out", str(out)]) == 0
    assert "4 annotated by mediapipe" in capsys.readouterr().out
    header = out.read_text().splitlines()[0]
    assert header.startswith("name,AU01_r,AU02_r") and header.endswith("AU45_r")
    table = read_au_file(out)
    assert table["happy.jpg"][au_index("AU12")] > table["anger.jpg"][au_index("AU12")] + 2
    ds = ImageFolderDataset(portraits, aus=out, split="all", resolution=64)
    assert len(ds) == 4 and ds.n_skipped == 0
    sample = ds.get(ds.names.index("surprise.jpg"))
    assert sample.image.shape == (3, 64, 64) and float(sample.image.std()) > 0.05
    torch.testing.assert_close(
        sample.aus, table["surprise.jpg"], rtol=0, atol=0, equal_nan=True
    )  # unmeasured AUs: NaN


def test_unknown_detector_fails_with_known_names(portraits: Path) -> None:
    with pytest.raises(KeyError, match="mediapipe"):
        annotate_folder(portraits, "openface", portraits / "x.csv")


def test_cli_annotates_a_video_through_its_frames(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    video, frames_dir = pyfeat_file("single_face.mp4"), tmp_path / "frames"
    argv = ["annotate", str(video), "--stride", "35", "--frames-dir", str(frames_dir)]
    assert main(argv) == 0
    assert "3 frames (every 35th)" in capsys.readouterr().out
    names = sorted(p.name for p in frames_dir.glob("*.png"))
    assert names == ["single_face_f000000.png", "single_face_f000035.png", "single_face_f000070.png"]
    expected = to_uint8_hwc(read_frames(video, [35])[0])
    assert np.array_equal(np.asarray(Image.open(frames_dir / names[1]).convert("RGB")), expected)
    stamps = [(frames_dir / n).stat().st_mtime_ns for n in names]
    assert main(argv) == 0  # frames already there are kept (a killed export resumes)
    assert stamps == [(frames_dir / n).stat().st_mtime_ns for n in names]
    ds = ImageFolderDataset(frames_dir, split="all", resolution=32)  # finds aus.csv itself
    assert ds.names == names and ds.n_skipped == 0
    assert ds.get_batch([0, 1, 2]).images.shape == (3, 3, 32, 32)


def test_ganimation_layout_with_pickle_and_split_files(tmp_path: Path) -> None:
    root = tmp_path / "emotionet"
    (root / "imgs").mkdir(parents=True)
    aus = {}
    for i, name in enumerate(PORTRAITS.values()):
        shutil.copy(pyfeat_file(name), root / "imgs" / name)
        aus[Path(name).stem] = np.full(17, i, dtype=np.float64)  # GANimation keys are stems
    (root / "aus_openface.pkl").write_bytes(pickle.dumps(aus, protocol=2))
    names = list(PORTRAITS.values())
    (root / "train_ids.csv").write_text("\n".join(names[:3]) + "\n")
    (root / "test_ids.csv").write_text(names[3] + "\n")
    train = ImageFolderDataset(root, split="train", resolution=32)
    test = ImageFolderDataset(root, split="test", resolution=32)
    assert len(train) == 3 and len(test) == 1
    assert float(test.get(0).aus[0]) == 3.0
    assert train.cache_key() != test.cache_key()


def test_pairs_are_deterministic_jittered_and_clipped(portraits: Path) -> None:
    annotate_folder(portraits, "mediapipe", portraits / "aus.csv")
    ds = ImageFolderDataset(portraits, split="all", resolution=32, crop=False)
    a, b, c = ds.make_pairs(12, seed=3), ds.make_pairs(12, seed=3), ds.make_pairs(12, seed=4)
    assert torch.equal(a.target_aus, b.target_aus) and not torch.equal(a.target_aus, c.target_aus)
    assert float(a.target_aus.min()) >= 0 and float(a.target_aus.max()) <= 5
    batch = a.batch(range(12))
    assert batch.target_image is None and not a.has_ground_truth
    assert batch.source.shape == (12, 3, 32, 32) and batch.source_aus.shape == (12, 17)
    # target = another sample's AUs within +-0.5 (before clipping)
    aus = torch.stack([ds.get(i).aus for i in range(len(ds))])
    dist = (batch.target_aus[:, None, :] - aus[None]).abs().nan_to_num(0.0).amax(-1)  # unmeasured AUs: NaN
    others = dist.masked_fill(torch.tensor(a.sources)[:, None] == torch.arange(len(ds)), 9.0)
    assert bool((others.min(1).values <= 0.5 + 1e-5).all())
    with pytest.raises(ValueError, match="unknown pair recipe"):
        ds.make_pairs(2, 0, recipe="reenact")


def test_cli_unavailable_detector_says_what_is_missing(
    portraits: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from faceedit_bench.backends.au_pyfeat import PyFeatAUDetector

    if PyFeatAUDetector.availability().usable:
        pytest.skip("py-feat weights are cached here")
    assert (
        main(["annotate", str(portraits), "--detector", "pyfeat-xgb", "--out", str(portraits / "p.csv")]) == 2
    )
    err = capsys.readouterr().err
    assert "faceedit-bench annotate: error:" in err and "xgb_au" in err
    assert not (portraits / "p.csv").exists()
