"""``report.html``: one self-contained page per run (inline CSS, JS and PNGs; no network).

Built only from a run directory's files, like the tables and figures: the protocol
and provenance from ``results.json``, the summary, ablation, per-AU and comparison
tables (:mod:`faceedit_bench.reports.tables`), every ``figures/*.png``, and a
per-sample browser over ``samples.jsonl`` whose images come from
``artifacts/browser.npz`` (first pairs plus each editor's worst, written by compare)
or, for older runs, ``artifacts/qualitative.npz``. Rendered with Jinja2
(autoescaped); the browser's data is one JSON block read by a short script.
"""

from __future__ import annotations

import base64
import io
import json
import math
import numbers
from pathlib import Path
from typing import Any

import numpy as np

from faceedit_bench.api.aus import AU_NAMES
from faceedit_bench.io import read_jsonl, write_text_atomic
from faceedit_bench.reports.labels import decimals_for, format_cell, metric_label, subset_note
from faceedit_bench.reports.results import MetricId, higher_is_better, load_results, results_path
from faceedit_bench.reports.table import Table
from faceedit_bench.reports.tables import build_ablation, build_per_au, build_summary, table_notes

TEMPLATE = "report.html.j2"


def png_data_uri(image: np.ndarray) -> str:
    """(3, H, W) or (H, W, 3) uint8 image -> ``data:image/png;base64,...``."""
    from PIL import Image

    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[0] in (1, 3) and arr.shape[-1] not in (1, 3):
        arr = np.transpose(arr, (1, 2, 0))
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(arr.squeeze()).astype(np.uint8)).save(buf, "PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _file_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def table_view(table: Table, results: dict[str, Any]) -> dict[str, Any]:
    """A :class:`Table` as template rows: text, sort key and best flag per cell."""
    columns = []
    for col in table.values.columns:
        label, backend = table.headers[col]
        columns.append({"label": label, "backend": backend})
    decimals = {c: decimals_for(table.values[c], table.half_ci[c]) for c in table.values.columns}
    rows = []
    for editor in table.values.index:
        cells = []
        for col in table.values.columns:
            value, half = float(table.values.loc[editor, col]), float(table.half_ci.loc[editor, col])
            cells.append({
                "text": format_cell(value, half, decimals[col]),
                "sort": value if math.isfinite(value) else "",
                "best": bool(table.best.loc[editor, col]),
            })  # fmt: skip
        rows.append({"editor": editor, "role": table.row_labels[editor], "cells": cells})
    return {
        "name": table.name,
        "title": table.title,
        "columns": columns,
        "rows": rows,
        "notes": table_notes(table, results),
    }


def frame_views(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Paired comparisons (difference, CI, p, verdict; per-AU rows left to the CSV) and seeds, when present."""
    from faceedit_bench.reports.stats_tables import comparisons_frame, seeds_frame

    block = results.get("comparisons") or {}
    rows = [r for r in block.get("rows", []) if MetricId.parse(r["metric"]).per_au is None]
    headline = {**results, "comparisons": {**block, "rows": rows}}
    views = []
    for name, title, frame in (
        (
            "comparisons",
            "Paired comparisons (per-AU rows: tables/comparisons.csv)",
            comparisons_frame(headline),
        ),
        ("seeds", "Training seeds", seeds_frame(results)),
    ):
        if not frame.empty:
            rows = [[str(v) for v in row] for row in frame.itertuples(index=False)]
            views.append({"name": name, "title": title, "columns": list(frame.columns), "rows": rows})
    views += attribution_views(results)
    return views


def attribution_views(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``attribution`` block (motion step, texture, hue of each edit) as one frame, when present."""
    from faceedit_bench.reports.attribution import attribution_frames

    frame = attribution_frames(results)[0]
    if frame.empty:
        return []
    rows = [[str(v) for v in row] for row in frame.itertuples(index=False)]
    title = "Where the AU-error gain comes from: share lost = (image − final) / (unchanged − final)"
    return [{"name": "attribution", "title": title, "columns": list(frame.columns), "rows": rows}]


def browser_data(run_dir: Path, results: dict[str, Any]) -> dict[str, Any]:
    """Per-sample rows (all pairs, all editors) and the images kept for some pairs."""
    path = run_dir / "samples.jsonl"
    samples = read_jsonl(path) if path.exists() else []
    keys = list(dict.fromkeys(k for row in samples for k in row.get("values", {})))
    keys = [k for k in keys if MetricId.parse(k).per_au is None]
    editors = list(dict.fromkeys(row["editor"] for row in samples))
    metrics = [
        {"id": k, "label": metric_label(MetricId.parse(k), higher_is_better(results, MetricId.parse(k))),
         "higher": higher_is_better(results, MetricId.parse(k))}
        for k in keys
    ]  # fmt: skip
    rows = [
        [editors.index(r["editor"]), str(r.get("sample_id", "")), str(r.get("identity_id") or "")]
        + [_num(r["values"].get(k)) for k in keys]
        for r in samples
    ]
    images, source = _images(run_dir, samples)
    from faceedit_bench.harness.outputs.browser import sort_metric

    first = sort_metric(samples, keys, (results.get("headline") or {}).get("metric"))
    return {"editors": editors, "metrics": metrics, "rows": rows, "images": images,
            "images_from": source, "au_names": list(AU_NAMES),
            "sort_metric": keys.index(first) if first in keys else 0}  # fmt: skip


def _num(value: Any) -> float | None:
    """A finite number rounded for the page (numpy scalars included), else None."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        return None
    return round(float(value), 6)


def _images(run_dir: Path, samples: list[dict[str, Any]]) -> tuple[dict[str, Any], str]:
    """sample id -> {source, target, edited: {editor: uri}, source_aus, target_aus}."""
    art = run_dir / "artifacts"
    for name in ("browser.npz", "qualitative.npz"):
        path = art / name
        if path.exists():
            with np.load(path, allow_pickle=False) as npz:
                data = {k: npz[k] for k in npz.files}
            break
    else:
        return {}, "none"
    k = len(data["source"])
    if "sample_id" in data:
        ids = [str(s) for s in data["sample_id"]]
    else:  # qualitative.npz holds the first pairs, in pair order
        first = next((r["editor"] for r in samples), None)
        ids = [str(r.get("sample_id")) for r in samples if r["editor"] == first][:k]
    images: dict[str, Any] = {}
    for i, sid in enumerate(ids):
        entry: dict[str, Any] = {"source": png_data_uri(data["source"][i]), "edited": {}}
        if "target" in data:
            entry["target"] = png_data_uri(data["target"][i])
        for aus in ("source_aus", "target_aus"):
            if aus in data:
                entry[aus] = [_num(v) for v in data[aus][i]]
        for key in data:
            if key.startswith("edited__"):
                entry["edited"][key.removeprefix("edited__")] = png_data_uri(data[key][i])
        images[sid] = entry
    return images, path.name


def figures_view(run_dir: Path) -> list[dict[str, str]]:
    """Every ``figures/*.png``, inlined (a published run's figures total a few MB)."""
    pngs = sorted((run_dir / "figures").glob("*.png"))
    return [{"name": png.stem.replace("_", " "), "src": _file_uri(png)} for png in pngs]


def _script_json(obj: Any) -> str:
    """JSON safe inside ``<script>`` (no ``</``, no HTML comment openers)."""
    text = json.dumps(obj, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_report(run_dir: str | Path) -> str:
    """The report page of ``run_dir`` as one HTML string."""
    import jinja2

    from faceedit_bench.reports.stats_tables import pooled_view

    run = results_path(run_dir).parent
    results = load_results(run)
    pooled = pooled_view(results)  # one row per editor, as in tables/
    tables = [build_summary(pooled), build_ablation(pooled), *build_per_au(pooled)]
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("faceedit_bench.reports", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    browser = browser_data(run, results)
    return env.get_template(TEMPLATE).render(
        results=results,
        protocol=results["protocol"],
        subset=subset_note(results["protocol"]),
        unavailable={n: e for n, e in results["editors"].items() if e.get("status", "ok") != "ok"},
        tables=[table_view(t, results) for t in tables if not t.values.empty and t.values.shape[1]],
        frames=frame_views(results),
        figures=figures_view(run),
        browser_json=_script_json(browser),
        n_samples=len(browser["rows"]),
        n_images=len(browser["images"]),
        images_from=browser["images_from"],
    )


def write_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write ``report.html`` (default ``RUN_DIR/report.html``) atomically; return its path."""
    run = results_path(run_dir).parent
    target = Path(out) if out is not None else run / "report.html"
    write_text_atomic(target, render_report(run))
    return target
