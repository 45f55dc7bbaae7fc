"""Merge runs of one protocol into one run folder: one results.json, one set of tables.

Runs are merged only when they are comparable (same protocol name, version and pair
count; each metric key measured by the same backend: :func:`check_comparable`). Editors
keep their entries; an editor in several runs is taken from the last run that has it.
Statistics that span editors (the seeds and comparisons blocks) are not carried over:
they are recomputed by a ``compare`` that runs the editors together.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from faceedit_bench.config import ConfigError

_CROSS_EDITOR = ("seeds", "comparisons")


def _samples(folder: Path) -> list[dict[str, Any]]:
    path = folder / "samples.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def merge_runs(runs: list[str | Path], out: str | Path) -> Path:
    """Write the merged run of ``runs`` (folders or results.json files) into ``out``."""
    from faceedit_bench.harness.inputs.rundir import claim_run_dir
    from faceedit_bench.harness.outputs.results import validate_results, write_results
    from faceedit_bench.reports.regression import IncomparableResults, check_comparable
    from faceedit_bench.reports.results import load_results, results_path
    from faceedit_bench.reports.tables import write_tables

    if len(runs) < 2:
        raise ConfigError("merge needs at least two runs")
    paths = [results_path(r) for r in runs]
    loaded = [load_results(p) for p in paths]
    base = loaded[0]
    for path, data in zip(paths[1:], loaded[1:], strict=True):
        try:
            check_comparable(base, data, (str(paths[0]), str(path)))
        except IncomparableResults as err:
            raise ConfigError(f"cannot merge: {err}") from None
    merged = {k: v for k, v in base.items() if k not in _CROSS_EDITOR}
    merged["editors"] = {}
    merged["metrics_meta"] = {}
    samples: dict[str, list[dict[str, Any]]] = {}
    for path, data in zip(paths, loaded, strict=True):
        merged["metrics_meta"].update(data.get("metrics_meta", {}))
        for name, entry in data["editors"].items():
            merged["editors"][name] = {**entry, "merged_from": str(path)}
        by_editor: dict[str, list[dict[str, Any]]] = {}
        for row in _samples(path.parent):
            by_editor.setdefault(row["editor"], []).append(row)
        samples.update(by_editor)
    merged["config"] = {**base["config"], "command": "merge", "merged_runs": [str(p) for p in paths]}
    validate_results(merged, "merged results")
    out = Path(out)
    claim_run_dir(out, "merge", list(merged["editors"]))
    write_results(out, merged, [row for name in merged["editors"] for row in samples.get(name, [])])
    write_tables(out, out / "tables")
    return out
