"""The results format: ``results.json`` (schema v2), ``samples.jsonl`` and artifacts, written atomically.

v2 (over v1): a metric entry may carry ``ci_method``, ``n_missed``/``miss_rate``/
``value_judged``/``miss_policy`` (judged metrics: a missed face scores the worst value),
``value_raw``/``note`` (FID clipped at 0); FID/KID have intervals and KID's subsets
are half the sample count below 2,000 pairs; top-level ``seeds``, ``comparisons`` and
``sampling_floor`` blocks (:mod:`faceedit_bench.harness.stats.comparisons`), and ``judge_audit``
(judge label -> the AU MAE an attack without an edit reaches, :mod:`.judge_audit`). v1 files still load.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from faceedit_bench.io import atomic_open, write_json_atomic, write_text_atomic

SCHEMA = "faceedit-bench/results/v2"
READABLE_SCHEMAS = ("faceedit-bench/results/v1", SCHEMA)
REQUIRED_TOP = ("schema", "protocol", "config", "versions", "git", "seed", "editors")
REQUIRED_METRIC = ("value", "ci95", "n", "backend", "higher_is_better")


class ResultsError(ValueError):
    """A results file does not follow the schema."""


def validate_results(data: dict[str, Any], source: str = "results") -> None:
    """Raise :class:`ResultsError` naming ``source`` and the first problem found."""
    missing = [k for k in REQUIRED_TOP if k not in data]
    if missing:
        raise ResultsError(f"{source}: missing top-level field(s) {', '.join(missing)}")
    if data["schema"] not in READABLE_SCHEMAS:
        raise ResultsError(f"{source}: schema is {data['schema']!r}, expected one of {READABLE_SCHEMAS}")
    for field in ("name", "version"):
        if field not in data["protocol"]:
            raise ResultsError(f"{source}: protocol has no {field!r}")
    for judge, block in (data.get("judge_audit") or {}).items():
        if not isinstance(block, dict) or not ({"method", "error"} & set(block)):
            raise ResultsError(f"{source}: judge_audit.{judge} must be a block with 'method' (or 'error')")
    for editor, entry in data["editors"].items():
        for key, value in entry.get("metrics", {}).items():
            absent = [k for k in REQUIRED_METRIC if k not in value]
            if absent:
                raise ResultsError(f"{source}: editors.{editor}.metrics.{key} lacks {', '.join(absent)}")
            if "@" not in key or key.split("@", 1)[1] != value["backend"]:
                raise ResultsError(f"{source}: metric key {key!r} must end with '@{value['backend']}'")


def build_results(
    *,
    protocol: dict[str, Any],
    config: dict[str, Any],
    versions: dict[str, str],
    git: str,
    seed: int,
    backends: dict[str, Any],
    metrics_meta: dict[str, Any],
    editors: dict[str, Any],
) -> dict[str, Any]:
    data = {
        "schema": SCHEMA,
        "protocol": protocol,
        "config": config,
        "versions": versions,
        "git": git,
        "seed": seed,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "backends": backends,
        "metrics_meta": metrics_meta,
        "editors": editors,
    }
    validate_results(data)
    return data


def write_results(out_dir: Path, data: dict[str, Any], samples: list[dict[str, Any]]) -> None:
    """Write ``samples.jsonl`` then ``results.json`` (the latter last: its presence means done)."""
    lines = "".join(json.dumps(s, allow_nan=False) + "\n" for s in samples)
    write_text_atomic(out_dir / "samples.jsonl", lines)
    write_json_atomic(out_dir / "results.json", data)


def write_npz_atomic(path: Path, arrays: dict[str, np.ndarray]) -> None:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    with atomic_open(path, "wb") as f:
        f.write(buffer.getvalue())


def load_results(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise ResultsError(f"{path}: cannot read ({err.strerror})") from None
    except json.JSONDecodeError as err:
        raise ResultsError(f"{path}: not valid JSON ({err})") from None
    validate_results(data, str(path))
    return data
