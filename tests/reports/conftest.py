"""A tiny but complete run directory, as written by ``faceedit-bench compare --out DIR``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from faceedit_bench.api.aus import AU_NAMES

RES = 16
EDITORS = {  # name -> (group, status)
    "identity": ("reference", "ok"),
    "oracle": ("reference", "ok"),
    "ganimation": ("baseline", "ok"),
    "two-stage": ("two-stage", "ok"),
    "warp-only": ("two-stage", "ok"),
    "two-stage-no-tv": ("two-stage", "unavailable"),
}
OK = [e for e, (_, s) in EDITORS.items() if s == "ok"]

# id -> (higher_is_better, primary, {editor: (value, ci or None)})
METRICS: dict[str, tuple[bool, bool, dict[str, tuple[float, tuple[float, float] | None]]]] = {
    "au_mae@aurig-ref": (False, True, {
        "identity": (1.20, (1.10, 1.30)), "oracle": (0.10, (0.08, 0.12)), "ganimation": (0.45, (0.40, 0.50)),
        "two-stage": (0.35, (0.31, 0.39)), "warp-only": (0.60, (0.55, 0.65))}),
    "id_cos@aurig-ref": (True, True, {
        "identity": (1.0, (1.0, 1.0)), "oracle": (0.95, (0.94, 0.96)), "ganimation": (0.80, (0.78, 0.82)),
        "two-stage": (0.85, (0.83, 0.87)), "warp-only": (0.90, (0.89, 0.91))}),
    "psnr@exact": (True, True, {
        "identity": (20.0, (19.5, 20.5)), "oracle": (60.0, None), "ganimation": (24.31, (23.86, 24.76)),
        "two-stage": (25.12, (24.70, 25.54)), "warp-only": (23.0, (22.6, 23.4))}),
    "fid@inception-v3-compat": (False, True, {
        "identity": (40.0, None), "ganimation": (31.2, None), "two-stage": (28.7, None), "warp-only": (35.4, None)}),
    "lpips_target@lpips-alex": (False, True, {
        "identity": (0.30, (0.28, 0.32)), "ganimation": (0.20, (0.19, 0.21)), "two-stage": (0.18, (0.17, 0.19))}),
    "lpips_target@stlpips-alex": (False, True, {"oracle": (0.0, (0.0, 0.0)), "warp-only": (0.22, (0.21, 0.23))}),
    "flow_epe@exact": (False, True, {"two-stage": (1.5, (1.3, 1.7)), "warp-only": (1.8, (1.6, 2.0))}),
    "psnr_in_mask@exact": (True, False, {"ganimation": (21.0, (20.5, 21.5)), "two-stage": (22.5, (22.0, 23.0))}),
}  # fmt: skip
PER_AU_SCALE = {"identity": 1.2, "oracle": 0.1, "ganimation": 0.45, "two-stage": 0.35, "warp-only": 0.6}


def per_au_value(editor: str, i: int) -> float:
    """Deterministic per-AU error: editor scale times an AU-dependent factor."""
    return round(PER_AU_SCALE[editor] * (0.5 + (i % 5) * 0.25), 4)


def _entry(mid: str, value: float, ci: tuple[float, float] | None, hib: bool) -> dict[str, Any]:
    key, _, backend = mid.rpartition("@")
    return {
        "value": value, "ci95": list(ci) if ci else None, "n": 8, "backend": backend,
        "higher_is_better": hib, "skipped": 0, "metric": key.split("_")[0], "key": key,
    }  # fmt: skip


def make_results() -> dict[str, Any]:
    """The results.json content of the fixture run."""
    meta: dict[str, Any] = {}
    editors: dict[str, Any] = {}
    for name, (group, status) in EDITORS.items():
        editors[name] = {"group": group, "status": status, "describe": {"name": name}, "metrics": {}}
        if status != "ok":
            editors[name]["reason"] = "no checkpoint"
            continue
        editors[name]["no_face"] = {"source": 0, "edited": 0, "target": 0, "n": 8}
    for mid, (hib, primary, per_editor) in METRICS.items():
        meta[mid] = {
            "key": mid.split("@")[0],
            "backend": mid.split("@")[1],
            "higher_is_better": hib,
            "primary": primary,
        }
        for editor, (value, ci) in per_editor.items():
            editors[editor]["metrics"][mid] = _entry(mid, value, ci, hib)
    for i, au in enumerate(AU_NAMES):
        mid = f"au_mae_{au}@aurig-ref"
        meta[mid] = {
            "key": f"au_mae_{au}",
            "backend": "aurig-ref",
            "higher_is_better": False,
            "primary": False,
        }
        for editor in OK:
            v = per_au_value(editor, i)
            editors[editor]["metrics"][mid] = _entry(mid, v, (v - 0.05, v + 0.05), False)
    return {
        "schema": "faceedit-bench/results/v1",
        "protocol": {"name": "aurig-demo", "version": 1, "dataset": "aurig", "resolution": RES, "n_pairs": 8},
        "config": {}, "versions": {"faceedit-bench": "0.1.0"}, "git": "abc123", "seed": 2020,
        "created": "2026-11-25T00:00:00+00:00",
        "backends": {"au_detector": {"label": "aurig-ref", "provenance": {}}},
        "metrics_meta": meta, "editors": editors,
    }  # fmt: skip


def _face(au12: float, au25: float, shade: int) -> np.ndarray:
    """A 3xRESxRES uint8 cartoon face whose smile/mouth follow AU12/AU25."""
    y, x = np.mgrid[0:RES, 0:RES] / (RES - 1) * 2 - 1
    img = np.full((3, RES, RES), 40, np.uint8)
    head = x**2 / 0.7 + y**2 < 0.8
    img[:, head] = np.array([200, 160 + shade, 130])[:, None]
    for ex in (-0.35, 0.35):
        img[:, (x - ex) ** 2 + (y + 0.25) ** 2 < 0.02] = 30
    mouth = (np.abs(x) < 0.3 + 0.04 * au12) & (np.abs(y - 0.4 + 0.03 * au12 * x**2) < 0.05 + 0.04 * au25)
    img[:, mouth] = np.array([150, 30, 40])[:, None]
    return img


def write_run_dir(root: Path) -> Path:
    """Write results.json, samples.jsonl and artifacts/ under ``root``; return ``root``."""
    rng = np.random.default_rng(0)
    root.mkdir(parents=True, exist_ok=True)
    (root / "results.json").write_text(json.dumps(make_results(), indent=1))
    lines = []
    for editor in OK:
        for s in range(8):
            values = {"au_mae@aurig-ref": PER_AU_SCALE[editor] + 0.01 * s}
            values.update(
                {
                    f"au_mae_{au}@aurig-ref": per_au_value(editor, i) + 0.01 * s
                    for i, au in enumerate(AU_NAMES)
                }
            )
            lines.append(
                json.dumps(
                    {"editor": editor, "sample_id": f"p{s}", "identity_id": f"id{s % 3}", "values": values}
                )
            )
    (root / "samples.jsonl").write_text("\n".join(lines) + "\n")
    art = root / "artifacts"
    (art / "training").mkdir(parents=True, exist_ok=True)
    k = 3
    target_aus = rng.uniform(0, 5, (k, 17)).astype(np.float32)
    source_aus = rng.uniform(0, 2, (k, 17)).astype(np.float32)
    i12, i25 = AU_NAMES.index("AU12"), AU_NAMES.index("AU25")
    source = np.stack([_face(source_aus[j, i12], source_aus[j, i25], 10 * j) for j in range(k)])
    target = np.stack([_face(target_aus[j, i12], target_aus[j, i25], 10 * j) for j in range(k)])
    q: dict[str, Any] = {
        "source": source,
        "target": target,
        "target_aus": target_aus,
        "source_aus": source_aus,
    }
    for e in OK:
        q[f"edited__{e}"] = source if e == "identity" else target
    yy, xx = np.meshgrid(
        (np.arange(RES) * 2 + 1) / RES - 1, (np.arange(RES) * 2 + 1) / RES - 1, indexing="ij"
    )
    base = np.stack([xx, yy], -1).astype(np.float32)
    swirl = np.stack([-yy, xx], -1).astype(np.float32) * 0.1
    q["flow__two-stage"] = np.stack([base + swirl * (j + 1) for j in range(k)])
    q["flow__warp-only"] = np.stack([base - swirl for _ in range(k)])
    q["mask__two-stage"] = rng.uniform(0, 1, (k, 1, RES, RES)).astype(np.float32)
    q["warped__two-stage"] = source
    q["editors"] = np.array(OK)
    np.savez(art / "qualitative.npz", **q)
    intens = np.linspace(0, 5, 5).astype(np.float32)
    sw: dict[str, Any] = {
        "source": source[:2],
        "aus": np.array(["AU12", "AU25"]),
        "intensities": intens,
        "editors": np.array(OK[2:]),
    }
    for e in OK[2:]:
        for au in ("AU12", "AU25"):
            frames = [
                [_face(t if au == "AU12" else 0, t if au == "AU25" else 0, 10 * s) for t in intens]
                for s in range(2)
            ]
            sw[f"edited__{e}__{au}"] = np.array(frames, np.uint8)
    sw["truth__AU12"] = np.array([[_face(t, 0, 10 * s) for t in intens] for s in range(2)], np.uint8)
    np.savez(art / "sweeps.npz", **sw)
    for e, scale in (("two-stage", 1.0), ("ganimation", 1.5)):
        rows = [
            {"step": 100 * i, "wall_s": 1.5 * i, "loss/critic": -scale * 5 / (i + 1), "loss/gen": scale * (2 + 1 / (i + 1)),
             "loss/au": scale / (i + 1), "loss/cycle": 0.3 * scale / (i + 1) ** 0.5}
            | ({"val/au_mae": 1.0 / (i + 1) + 0.3} if i % 3 == 0 else {})
            for i in range(1, 11)
        ]  # fmt: skip
        (art / "training" / f"{e}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete fixture run directory (read-only: copy before modifying)."""
    return write_run_dir(tmp_path_factory.mktemp("run"))


@pytest.fixture
def pdflatex() -> str:
    """The pdflatex binary; skip without one, unless CI requires it (.ci/run sets the variable)."""
    found = shutil.which("pdflatex")
    if found is None:
        why = (
            "no pdflatex (apt-get install texlive-latex-base texlive-latex-recommended; .ci/run installs it)"
        )
        if os.environ.get("FACEEDIT_REQUIRE_PDFLATEX"):
            pytest.fail(f"FACEEDIT_REQUIRE_PDFLATEX is set but there is {why}")
        pytest.skip(f"{why}: the fit is still checked by construction")
    return found


def compile_paper(pdflatex: str, folder: Path, inputs: list[str], filler: str = "Text.") -> str:
    """A two-column article with ``filler`` before each ``\\input`` line, compiled twice
    (duplicate labels show on the run that reads the .aux); returns the log."""
    doc = folder / "paper.tex"
    doc.write_text(
        "\\documentclass[twocolumn]{article}\n\\usepackage{booktabs,graphicx}\n\\begin{document}\n"
        + "\n".join(f"{filler}\n\n{line}" for line in inputs)
        + f"\n\n{filler}\n\\end{{document}}\n"
    )
    for _ in range(2):
        proc = subprocess.run(
            [pdflatex, "-interaction=nonstopmode", "-halt-on-error", doc.name],
            cwd=folder, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stdout[-2000:]
    return (folder / "paper.log").read_text(errors="replace")
