"""Export a protocol's edit requests so any other system can answer them.

``export_protocol(P, DIR)`` writes what the judges will see and what to fill in:

    DIR/sources/00000.png ...  the source images exactly as the harness gives them to
                               every editor (the protocol's crop and resolution, 8-bit)
    DIR/pairs.csv              id, source, edited, identity, AU01 ... AU45 (the target
                               intensities, 0-5 unless au_scale=1; empty = not asked)
    DIR/protocol.json          protocol name, version and recipe, package version
    DIR/README.txt             what to do next
    DIR/edited/                empty: your system writes edited/00000.png ... here

``faceedit-bench compare --protocol P --external NAME=DIR/pairs.csv`` then scores the
edits beside the shipped editors, on the same pairs, crop, ground truth and judges.
A system that copies its sources scores like the ``identity`` editor up to the 8-bit
rounding of the PNGs.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import torch

from faceedit_bench import plugins
from faceedit_bench.api.aus import AU_MAX, AU_NAMES
from faceedit_bench.api.protocol import Protocol
from faceedit_bench.harness.inputs.manifest import EXPORT_INFO
from faceedit_bench.io import write_bytes_atomic, write_json_atomic, write_text_atomic

EXPORT_SCHEMA = "faceedit-bench/export/v1"
EXPORT_BATCH = 32


@dataclass
class ExportSummary:
    """What :func:`export_protocol` wrote."""

    out: Path
    protocol: str
    version: int
    n_pairs: int
    has_ground_truth: bool

    def line(self) -> str:
        return (
            f"exported {self.n_pairs} pairs of {self.protocol} v{self.version} to {self.out} "
            f"(sources/, pairs.csv, {EXPORT_INFO}, README.txt); see {self.out / 'README.txt'}"
        )


def _png_bytes(image: torch.Tensor) -> bytes:
    from PIL import Image

    from faceedit_bench.data.images import to_uint8_hwc

    buffer = io.BytesIO()
    Image.fromarray(to_uint8_hwc(image)).save(buffer, format="PNG")
    return buffer.getvalue()


def _check_out(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise FileExistsError(f"{out}: folder is not empty; choose a new --out (or --overwrite)")


def export_protocol(
    protocol: Protocol | str,
    out: str | Path,
    *,
    n_pairs: int | None = None,
    au_scale: float = AU_MAX,
    overwrite: bool = False,
    progress: bool = False,
) -> ExportSummary:
    """Write ``protocol``'s sources, ``pairs.csv``, ``protocol.json`` and a README into ``out``."""
    from tqdm.auto import tqdm

    from faceedit_bench.harness.inputs.pairs import build_pairs
    from faceedit_bench.harness.outputs.provenance import git_hash, package_versions

    if au_scale not in (1.0, AU_MAX):
        raise ValueError(f"au_scale must be 1 (0-1 AUs) or {AU_MAX:g} (0-5), got {au_scale:g}")
    proto: Protocol = plugins.protocols.get(protocol) if isinstance(protocol, str) else protocol
    out = Path(out)
    _check_out(out, overwrite)
    pairs = build_pairs(proto, n_pairs)
    n = len(pairs)
    (out / "edited").mkdir(parents=True, exist_ok=True)
    rows: list[list[str]] = []
    starts = range(0, n, EXPORT_BATCH)
    for start in tqdm(starts, desc=f"export {proto.name}", unit="batch", disable=not progress):
        batch = pairs.batch(list(range(start, min(n, start + EXPORT_BATCH))))
        identities = batch.identity_ids or [""] * len(batch)
        for k, (sid, iid) in enumerate(zip(batch.sample_ids, identities, strict=True)):
            stem = f"{start + k:05d}.png"
            write_bytes_atomic(out / "sources" / stem, _png_bytes(batch.source[k]))
            aus = [_cell(float(v) * au_scale / AU_MAX) for v in batch.target_aus[k]]
            rows.append([sid, f"sources/{stem}", f"edited/{stem}", iid, *aus])
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["id", "source", "edited", "identity", *AU_NAMES])
    writer.writerows(rows)
    write_text_atomic(out / "pairs.csv", text.getvalue())
    info = {
        "schema": EXPORT_SCHEMA,
        "protocol": proto.to_json(),
        "n_pairs": n,
        "has_ground_truth": pairs.has_ground_truth,
        "pairs_key": pairs.cache_key(),
        "au_scale": au_scale,
        "versions": {"faceedit-bench": package_versions()["faceedit_bench.__version__"]},
        "git": git_hash(),
    }
    write_json_atomic(out / EXPORT_INFO, info)
    write_text_atomic(out / "README.txt", _readme(proto, n, au_scale, out))
    return ExportSummary(out, proto.name, proto.version, n, pairs.has_ground_truth)


def _cell(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.6f}"


def _readme(proto: Protocol, n: int, au_scale: float, out: Path) -> str:
    scale = "0-5, OpenFace/GANimation intensities" if au_scale == AU_MAX else "0-1, intensities divided by 5"
    size = f"{proto.resolution}x{proto.resolution}"
    return f"""\
{proto.name} v{proto.version}: {n} edit requests, exported by faceedit-bench.
{proto.description}

1. For every row of pairs.csv, edit the image in column `source` so that it shows
   the action units in columns AU01 ... AU45 ({scale};
   an empty cell means the AU is not asked for). Save the result as an RGB PNG of
   the same size ({size}) at the path in column `edited` (relative to this folder).
   Other square sizes are resized; non-square images are centre-cropped first.
   Keep the `id` column as it is: edits are matched to the protocol's pairs by it.
2. Score your edits beside the shipped editors, in one table:

     faceedit-bench compare --protocol {proto.name} --editors identity two-stage ganimation \\
         --external mine={out / "pairs.csv"}

   or alone:

     faceedit-bench evaluate --manifest {out / "pairs.csv"} --name mine --protocol {proto.name}

Results go to runs/{proto.name}/ (compare) or runs/evaluate-{proto.name}-mine/ (evaluate):
results.json, samples.jsonl, tables/ and figures/. The protocol's ground truth and
judges are the harness's own; they are not in this folder.
"""
