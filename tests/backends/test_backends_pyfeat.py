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
