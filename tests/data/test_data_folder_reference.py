"""Own-data protocols hold out a real FID/KID reference set: never the edits' own sources."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from faceedit_bench.cli.main import main
from faceedit_bench.data.aus_io import write_au_csv
from faceedit_bench.data.folder import ImageFolderDataset
from faceedit_bench.harness.outputs.results import load_results


def _folder(root: Path, n: int, seed: int = 0, aus: bool = True) -> list[str]:
    """``n`` small noise images of different brightness (no faces: used with ``crop=False``)."""
    root.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    names = []
    for i in range(n):
        arr = (rng.random((24, 24, 3)) * 255 * (0.3 + 0.05 * i)).clip(0, 255).astype("uint8")
        Image.fromarray(arr).save(root / f"p{i:02d}.png")
        names.append(f"p{i:02d}.png")
    if aus:
        write_au_csv(
            root / "aus.csv", names, torch.rand(n, 17, generator=torch.Generator().manual_seed(seed)) * 3
        )
    return names


def test_held_out_reference_is_disjoint_from_the_sources(tmp_path: Path) -> None:
    _folder(tmp_path / "faces", 12)
    ds = ImageFolderDataset(tmp_path / "faces", split="all", resolution=16, crop=False)
    pairs = ds.make_pairs(10, seed=1)
    ref = pairs.reference_set()
    assert ref["kind"] == "held-out" and ref["n_images"] == 6 and "never a source" in ref["chosen"]
    sources = {ds.names[i] for i in pairs.sources}
    assert sources and not sources & set(ref["names"])  # type: ignore[arg-type]
    batch = pairs.batch(range(10))
    assert pairs.real_side == "reference" and batch.reference_image is not None
    assert batch.reference_image.shape == batch.source.shape
    # no reference row is a source image, and the two halves (the sampling floor's) share none
    src_px = {tuple(s.flatten()[:8].tolist()) for s in batch.source}
    ref_px = [tuple(r.flatten()[:8].tolist()) for r in batch.reference_image]
    assert not src_px & set(ref_px)
    assert not set(pairs.reference_rows[:5]) & set(pairs.reference_rows[5:])
    # the split does not depend on the pair seed; the pair cache key names the reference
    assert ds.make_pairs(10, seed=2).reference_set()["names"] == ref["names"]
    assert "-ref-held-0.5-" in pairs.cache_key()


def test_identities_are_held_out_whole(tmp_path: Path) -> None:
    names = _folder(tmp_path / "faces", 12)
    (tmp_path / "faces" / "identities.csv").write_text(
        "name,identity\n" + "".join(f"{n},person{i // 3}\n" for i, n in enumerate(names))
    )
    ds = ImageFolderDataset(tmp_path / "faces", split="all", resolution=16, crop=False)
    pairs = ds.make_pairs(8, seed=0)
    held = {ds.identity(ds.names.index(n)) for n in pairs.reference_set()["names"]}  # type: ignore[union-attr]
    assert len(held) == 2 and pairs.reference_set()["n_images"] == 6
    assert "2 of 4 identities" in str(pairs.reference_set()["chosen"])
    assert not held & {ds.identity(i) for i in pairs.sources}


def test_real_folder_is_the_reference_and_may_not_hold_sources(tmp_path: Path) -> None:
    _folder(tmp_path / "faces", 4)
    _folder(tmp_path / "real", 5, seed=7, aus=False)
    ds = ImageFolderDataset(
        tmp_path / "faces", split="all", resolution=16, crop=False, real=tmp_path / "real"
    )
    pairs = ds.make_pairs(6, seed=0)
    ref = pairs.reference_set()
    assert ref["kind"] == "folder" and ref["n_images"] == 5 and str(tmp_path / "real") in str(ref["chosen"])
    assert set(pairs.sources) <= set(range(4)) and pairs.batch(range(6)).reference_image.shape == (
        6,
        3,
        16,
        16,
    )
    shutil.copy(tmp_path / "faces" / "p00.png", tmp_path / "real" / "copy.png")
    ds = ImageFolderDataset(
        tmp_path / "faces", split="all", resolution=16, crop=False, real=tmp_path / "real"
    )
    with pytest.raises(ValueError, match="disjoint from the sources"):
        ds.make_pairs(6, seed=0)


def test_one_identity_cannot_be_split(tmp_path: Path) -> None:
    names = _folder(tmp_path / "faces", 3)
    (tmp_path / "faces" / "identities.csv").write_text("".join(f"{n},me\n" for n in names))
    ds = ImageFolderDataset(tmp_path / "faces", split="all", resolution=16, crop=False)
    with pytest.raises(ValueError, match="real=DIR"):
        ds.make_pairs(2, seed=0)


def test_identity_editor_no_longer_scores_fid_zero(tmp_path: Path) -> None:
    """FID of unchanged faces was 0 by construction (edits vs their own sources); now it is the
    distance to held-out real images, and results.json names the reference set."""
    _folder(tmp_path / "faces", 12)
    spec = tmp_path / "tiny.yaml"
    spec.write_text(
        f"dataset: image-folder\ndataset_args: {{root: {tmp_path / 'faces'}, crop: false}}\nname: tiny\n"
        "n_pairs: 8\nresolution: 32\nmetrics: [fid, kid]\nbackends: {fid_features: [inception-v3-compat]}\n"
    )
    out = tmp_path / "run"
    argv = ["compare", "--protocol", str(spec), "--editors", "identity", "--out", str(out),
            "--no-figures", "--no-html", "--no-judge-audit", "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    data = load_results(out / "results.json")
    fid = next(v["value"] for k, v in data["editors"]["identity"]["metrics"].items() if k.startswith("fid@"))
    assert fid > 1.0
    assert "FID/KID reference: a held-out 0.5 of the identities" in data["protocol"]["description"]
    ref = data["protocol"].get("reference_set")  # written by compare where it records the pair set
    if ref is not None:
        assert ref["kind"] == "held-out" and ref["n_images"] == 6
