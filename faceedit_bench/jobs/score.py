"""One or more metrics between two folders of images (torch-fidelity's ``fidelity`` habit).

``score_folders(A, B, metrics=("fid", "kid", "lpips", "psnr", "ssim"))``:

* distribution metrics (``fid``, ``kid``) compare every image of A with every image of
  B, through the same feature extractor and formulas as the harness (FID's matrix
  square root and KID's subset sizes taken from its ``FID`` and ``KID`` metrics);
* paired metrics (``lpips``, ``psnr``, ``ssim``) pair files by name stem and report the
  mean with a 95% bootstrap interval; unpaired names are an error.

Every image is centre-cropped to square and resized to ``resolution`` (default: the
first image of A's size), the manifest rule. Values are named ``key@backend``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from faceedit_bench.api.protocol import Protocol
from faceedit_bench.config import ConfigError

DISTRIBUTION = ("fid", "kid")
PAIRED = ("lpips", "psnr", "ssim")
KNOWN = (*DISTRIBUTION, *PAIRED)


@dataclass
class FolderScore:
    """The values of one ``score`` call, JSON-ready."""

    folders: tuple[str, str]
    n_images: tuple[int, int]
    resolution: int
    values: dict[str, dict[str, Any]]
    backends: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "faceedit-bench/score/v1",
            "folders": list(self.folders),
            "n_images": list(self.n_images),
            "resolution": self.resolution,
            "backends": self.backends,
            "metrics": self.values,
        }

    def lines(self) -> list[str]:
        out = []
        for key, v in self.values.items():
            ci = f"  [{v['ci95'][0]:.4g}, {v['ci95'][1]:.4g}]" if v.get("ci95") else ""
            out.append(f"{key:32s} {v['value']:.6g}{ci}  (n={v['n']})")
        return out


def image_files(folder: Path) -> dict[str, Path]:
    """``{stem: path}`` of the images in ``folder``; errors name the folder."""
    from faceedit_bench.data.images import is_image_file

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder")
    files = sorted(p for p in folder.iterdir() if p.is_file() and is_image_file(p))
    if not files:
        raise ValueError(f"{folder}: no images (.png/.jpg/...)")
    by_stem: dict[str, Path] = {}
    for p in files:
        if p.stem in by_stem:
            raise ValueError(f"{folder}: two images named {p.stem!r} ({by_stem[p.stem].name}, {p.name})")
        by_stem[p.stem] = p
    return by_stem


def parse_metrics(text: str | list[str] | tuple[str, ...]) -> list[str]:
    names = [m.strip() for m in (text.split(",") if isinstance(text, str) else text) if m.strip()]
    unknown = [m for m in names if m not in KNOWN]
    if unknown or not names:
        raise ConfigError(f"--metrics {','.join(unknown) or '(none)'}: unknown; known: {', '.join(KNOWN)}")
    return names


def _load(paths: list[Path], resolution: int) -> torch.Tensor:
    from faceedit_bench.harness.inputs.manifest import load_fitted

    return torch.stack([load_fitted(p, resolution) for p in paths])


def _batches(paths: list[Path], resolution: int, batch_size: int):
    for start in range(0, len(paths), batch_size):
        yield _load(paths[start : start + batch_size], resolution)


def _judges(names: list[str], overrides: dict[str, str], device: str):
    from faceedit_bench.harness.inputs.backends import choose_backends

    wanted: dict[str, tuple[str, ...]] = {}
    if any(m in DISTRIBUTION for m in names):
        wanted["fid_features"] = ("inception-v3-compat",)
    if "lpips" in names:
        wanted["lpips"] = ("lpips-alex", "stlpips-alex")
    probe = Protocol("score", 1, "folders", {}, "all", 0, 0, 0, (), backends=wanted)
    return choose_backends(probe, overrides, device)


def _paired_entry(values: np.ndarray, backend: str, hib: bool) -> dict[str, Any]:
    from faceedit_bench.harness.stats.bootstrap import bootstrap_mean_ci

    lo, hi = bootstrap_mean_ci(values, seed=0)
    return {"value": float(np.nanmean(values)), "ci95": [lo, hi], "n": int(np.isfinite(values).sum()),
            "backend": backend, "higher_is_better": hib}  # fmt: skip


def score_folders(
    folder_a: str | Path,
    folder_b: str | Path,
    metrics: list[str] | tuple[str, ...] = ("fid", "kid"),
    *,
    resolution: int | None = None,
    batch_size: int = 32,
    device: str = "cpu",
    fid_features: str | None = None,
    lpips: str | None = None,
) -> FolderScore:
    """Score folder A against folder B (see module docstring)."""
    from faceedit_bench.data.images import read_image
    from faceedit_bench.harness.inputs.config import MAX_RESOLUTION, check_batch_memory, check_size
    from faceedit_bench.metrics.functional.fid import fid_from_features
    from faceedit_bench.metrics.functional.kid import kid
    from faceedit_bench.metrics.functional.psnr import psnr_regions
    from faceedit_bench.metrics.functional.ssim import ssim_regions
    from faceedit_bench.metrics.metric_fid import FID
    from faceedit_bench.metrics.metric_kid import KID

    names = parse_metrics(list(metrics))
    check_size("--batch-size", batch_size, 1, 1 << 20)
    if resolution is not None:
        check_size("--resolution", resolution, 8, MAX_RESOLUTION)  # before any image is allocated
    a, b = image_files(Path(folder_a)), image_files(Path(folder_b))
    res = resolution or min(read_image(next(iter(a.values()))).shape[1:])
    if resolution is None and res > MAX_RESOLUTION:
        raise ConfigError(
            f"{next(iter(a.values()))}: {res} px; give --resolution (at most {MAX_RESOLUTION}) to fit images to"
        )
    check_batch_memory(res, batch_size)
    overrides = {k: v for k, v in (("fid_features", fid_features), ("lpips", lpips)) if v}
    backends, choices = _judges(names, overrides, device)
    values: dict[str, dict[str, Any]] = {}
    if any(m in DISTRIBUTION for m in names):
        extractor = backends.fid_features
        if extractor is None:
            raise ConfigError(f"no usable FID feature extractor: {choices['fid_features'].rejected}")
        feats = [
            torch.cat([extractor.features(x.to(device)).double().cpu() for x in _batches(list(side.values()), res, batch_size)])
            for side in (a, b)
        ]  # fmt: skip
        label = extractor.label
        if "fid" in names:
            fid = fid_from_features(*feats, method=FID.sqrt_method)
            values[f"fid@{label}"] = {"value": fid, "ci95": None,
                                      "n": len(a) + len(b), "backend": label, "higher_is_better": False}  # fmt: skip
        if "kid" in names:
            size = KID().subset_size(min(len(a), len(b)))
            mean, std = kid(feats[0].numpy(), feats[1].numpy(), replace(KID.config, subset_size=size))
            values[f"kid@{label}"] = {"value": mean, "std": std, "ci95": None, "n": len(a) + len(b),
                                      "backend": label, "higher_is_better": False}  # fmt: skip
    paired = [m for m in names if m in PAIRED]
    if paired:
        unmatched = sorted(set(a) ^ set(b))
        if unmatched:
            raise ValueError(
                f"paired metrics ({', '.join(paired)}) pair files by name, but {len(unmatched)} names are in only one "
                f"of {folder_a} and {folder_b}, e.g. {', '.join(unmatched[:3])}"
            )
        per: dict[str, list[torch.Tensor]] = {m: [] for m in paired}
        stems = sorted(a)
        for start in range(0, len(stems), batch_size):
            chunk = stems[start : start + batch_size]
            xa, xb = _load([a[s] for s in chunk], res), _load([b[s] for s in chunk], res)
            if "psnr" in per:
                per["psnr"].append(psnr_regions(xa, xb)["all"])
            if "ssim" in per:
                per["ssim"].append(ssim_regions(xa, xb)["all"])
            if "lpips" in per:
                if backends.lpips is None:
                    raise ConfigError(f"no usable LPIPS backend: {choices['lpips'].rejected}")
                per["lpips"].append(backends.lpips.distance(xa.to(device), xb.to(device)).reshape(-1).cpu())
        for m, parts in per.items():
            col = torch.cat(parts).double().numpy()
            label = backends.lpips.label if m == "lpips" else "exact"  # type: ignore[union-attr]
            values[f"{m}@{label}"] = _paired_entry(col, label, m != "lpips")
    chosen = {k: {"name": c.name, "label": c.label, "reason": c.reason} for k, c in choices.items()}
    for v in values.values():
        v["value"] = float(v["value"]) if math.isfinite(v["value"]) else None
    return FolderScore((str(folder_a), str(folder_b)), (len(a), len(b)), res, values, chosen)
