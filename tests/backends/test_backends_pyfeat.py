"""py-feat xgb AU backend: offline availability and the Fex -> 17-AU mapping."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from faceedit_bench.api.aus import au_index
from faceedit_bench.backends.au_pyfeat import PyFeatAUDetector, fex_rows_to_aus


def test_availability_is_decided_offline_and_says_what_to_place() -> None:
    avail = PyFeatAUDetector.availability()
    if not avail.usable:
        assert "xgb_au" in avail.reason and "resources" in avail.reason
        with pytest.raises(FileNotFoundError, match="xgb_au"):
            PyFeatAUDetector()


def test_fex_rows_map_by_name_pick_best_face_and_leave_au45_nan() -> None:
    fex = pd.DataFrame(
        {
            "frame": [0, 0, 2],
            "FaceScore": [0.6, 0.99, 0.9],
            "AU12": [0.1, 0.8, 0.2],
            "AU43": [0.5, 0.5, 0.5],
            "AU26": [0.0, 0.4, 1.0],
        }
    )
    out = fex_rows_to_aus(fex, 3)
    assert out.shape == (3, 17)
    assert float(out[0, au_index("AU12")]) == pytest.approx(4.0)  # best face, 0.8 * 5
    assert float(out[2, au_index("AU26")]) == pytest.approx(5.0)
    assert math.isnan(float(out[0, au_index("AU45")]))  # AU43 is not AU45
    assert math.isnan(float(out[0, au_index("AU01")]))  # absent column
    assert out[1].isnan().all()  # frame 1: no face


def _hf_cache(root, repo: str, name: str, data: bytes):
    """A file laid out as huggingface_hub caches it (refs/main -> snapshots/<rev>/name)."""
    folder = root / f"models--{repo.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True, exist_ok=True)
    (folder / "refs" / "main").write_text("0" * 40)
    path = folder / "snapshots" / ("0" * 40) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_au_model_check_refuses_a_wrong_or_unpinned_file_and_names_it(tmp_path, monkeypatch) -> None:
    import hashlib

    from faceedit_bench.backends import au_pyfeat
    from faceedit_bench.safe_load import UnsafeOrBrokenFile

    monkeypatch.delenv(au_pyfeat.AU_MODEL_SHA256_ENV, raising=False)
    planted = tmp_path / "xgb_au_classifier_v2.skops"
    planted.write_bytes(b"PK\x03\x04 a skops file naming builtins.eval")
    with pytest.raises(UnsafeOrBrokenFile, match=f"{planted}: sha256 .* is not d21a2a49"):
        au_pyfeat.verify_au_model(planted)
    v1 = tmp_path / "xgb_au_classifier.skops"
    v1.write_bytes(b"anything")
    with pytest.raises(UnsafeOrBrokenFile, match=f"{v1}: no published sha256 is pinned"):
        au_pyfeat.verify_au_model(v1)
    monkeypatch.setenv(au_pyfeat.AU_MODEL_SHA256_ENV, hashlib.sha256(b"anything").hexdigest())
    assert au_pyfeat.verify_au_model(v1) == hashlib.sha256(b"anything").hexdigest()  # a user's own pin


def test_a_planted_au_model_stops_the_backend_before_py_feat_opens_it(tmp_path, monkeypatch) -> None:
    import sys
    import types

    import huggingface_hub.constants as hf_constants

    from faceedit_bench.backends import au_pyfeat
    from faceedit_bench.safe_load import UnsafeOrBrokenFile

    monkeypatch.delenv(au_pyfeat.AU_MODEL_SHA256_ENV, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(au_pyfeat, "pyfeat_resource_dir", lambda: tmp_path)
    for repo, names in au_pyfeat.REQUIRED_FILES:
        planted = _hf_cache(tmp_path, repo, names[0], b"planted " + repo.encode())
    opened = []
    fake_feat = types.ModuleType("feat")
    fake_feat.Detectorv1 = lambda **kw: opened.append(kw)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "feat", fake_feat)
    with pytest.raises(UnsafeOrBrokenFile, match=str(planted.name) + ": sha256") as err:
        au_pyfeat.PyFeatAUDetector()
    assert "xgb_au_classifier_v2.skops" in str(err.value) and not opened  # py-feat never ran
