"""Merge runs of one protocol into one run folder: one results.json, one set of tables and figures.

Runs are merged only when their numbers are comparable; otherwise :class:`MergeRefused`
(a :class:`ConfigError`, exit 2) names the runs and what differs:

- the protocol (name, version, pair count and the fields that draw the pairs: seed,
  split, dataset and its arguments, pair recipe; :func:`check_comparable`);
- the pairs themselves: every run's ``samples.jsonl`` must hold the same sample ids
  (a protocol name on another seed or pair set scores other pairs);
- the judges: each backend kind (AU detectors, identity, FID features, LPIPS) must be
  the same label with the same weights in every run, and no metric key may come from
  disjoint backends (two AU detectors side by side in one table are refused);
- an editor name in several runs must name the same system (its ``describe``): an
  external system named ``identity`` does not replace the real identity row.

The merged run is a run like any other: the per-sample values of every editor (same
sample ids, pair order) are pooled and the intervals, the ``seeds`` block and the paired
``comparisons`` (with their winners, which decide bold) are recomputed from them, with the
same resampling weights as a single run. FID/KID have no per-sample values: their paired
rows and winners are carried over from a source run when every editor compared comes from
it, and the merged run's notes say which are missing. Figures' inputs
(``artifacts/*.npz``, training logs) are merged when their shared parts (sources,
targets, AU sweeps) agree; what cannot be merged is named in the notes, never dropped
silently. Notes are in ``results.json`` (``merge.notes``) and under the summary table.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np

from faceedit_bench.config import ConfigError
from faceedit_bench.reports.comparable import (
    IncomparableResults,
    backends_by_key,
    check_comparable,
    location_free,
)

_CROSS_EDITOR = ("seeds", "comparisons")
_WEIGHT_FIELDS = ("weights", "sha", "checkpoint")  # provenance fields that identify a judge's weights


class MergeRefused(ConfigError):
    """The runs cannot be merged: other pairs, other judges or another system under one name."""


def _samples(folder: Path) -> list[dict[str, Any]]:
    path = folder / "samples.jsonl"
    if not path.is_file():
        raise MergeRefused(
            f"cannot merge {folder}: it has no samples.jsonl, so its paired comparisons cannot be "
            "recomputed with the other runs' (re-run it, or merge only runs written with their samples)"
        )
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def check_mergeable(
    names: list[str], loaded: list[dict[str, Any]], samples: list[list[dict[str, Any]]]
) -> list[str]:
    """Raise :class:`MergeRefused` naming the runs and what differs; return notes on what is merged anyway."""
    from faceedit_bench.harness.stats.pair_set import describe_difference, sample_ids

    notes: list[str] = []
    base, base_ids = loaded[0], sample_ids(samples[0])
    for name, data, rows in zip(names[1:], loaded[1:], samples[1:], strict=True):
        try:
            check_comparable(base, data, (names[0], name))
        except IncomparableResults as err:
            raise MergeRefused(f"cannot merge {names[0]} and {name}: {err}") from None
        diff = describe_difference(base_ids, sample_ids(rows))
        if diff is not None:
            raise MergeRefused(
                f"cannot merge {names[0]} and {name}: they scored other pairs ({diff}); protocol "
                f"{base['protocol']['name']} on another seed or pair set is another benchmark"
            )
        notes += _check_judges(names[0], base, name, data)
    _check_keys(names, loaded)
    _check_editors(names, loaded)
    return notes


def _check_judges(name_a: str, a: dict[str, Any], name_b: str, b: dict[str, Any]) -> list[str]:
    notes = []
    ba, bb = a.get("backends") or {}, b.get("backends") or {}
    for kind in sorted(ba.keys() & bb.keys()):
        la, lb = (ba[kind] or {}).get("label"), (bb[kind] or {}).get("label")
        if la != lb:
            raise MergeRefused(
                f"cannot merge {name_a} and {name_b}: judged by different {kind} backends ({la} in {name_a}, "
                f"{lb} in {name_b}); numbers from different judges are never put side by side"
            )
        pa = location_free((ba[kind] or {}).get("provenance") or {})
        pb = location_free((bb[kind] or {}).get("provenance") or {})
        changed = sorted(k for k in pa.keys() | pb.keys() if pa.get(k) != pb.get(k))
        weights = [k for k in changed if any(w in k for w in _WEIGHT_FIELDS)]
        if weights:
            raise MergeRefused(
                f"cannot merge {name_a} and {name_b}: the {kind} backend {la} has other weights "
                f"({', '.join(weights)} differ); the same label on other weights is another judge"
            )
        if changed:
            notes.append(f"{kind} {la}: same weights, provenance differs in {', '.join(changed)} across runs")
    return notes


def _keys(data: dict[str, Any]) -> dict[str, set[str]]:
    """metric key -> the backends that measured it, over every editor of a run."""
    out: dict[str, set[str]] = {}
    for entry in data["editors"].values():
        for key, backends in backends_by_key(entry).items():
            out.setdefault(key, set()).update(backends)
    return out


def _check_keys(names: list[str], loaded: list[dict[str, Any]]) -> None:
    base = _keys(loaded[0])
    for name, data in zip(names[1:], loaded[1:], strict=True):
        other = _keys(data)
        for key in sorted(base.keys() & other.keys()):
            if not base[key] & other[key]:
                raise MergeRefused(
                    f"cannot merge {names[0]} and {name}: metric {key!r} is measured by "
                    f"{', '.join(sorted(base[key]))} in {names[0]} but {', '.join(sorted(other[key]))} in "
                    f"{name}; columns from different judges are never merged side by side"
                )


def _check_editors(names: list[str], loaded: list[dict[str, Any]]) -> None:
    systems: dict[str, str] = {}  # seeded system name -> run
    for name, data in zip(names, loaded, strict=True):
        for base in data.get("seeds") or {}:
            systems.setdefault(base, name)
    for name, data in zip(names, loaded, strict=True):
        for editor in data["editors"]:
            if editor in systems and systems[editor] != name and editor not in (data.get("seeds") or {}):
                raise MergeRefused(
                    f"cannot merge: {editor!r} is one checkpoint in {name} but a system of several training "
                    f"seeds in {systems[editor]}; the merged table would show only one of them under that name "
                    "(merge runs that evaluate it the same way, or rename one)"
                )
    seen: dict[str, tuple[str, Any]] = {}
    for name, data in zip(names, loaded, strict=True):
        for editor, entry in data["editors"].items():
            if editor in seen and seen[editor][1] != entry.get("describe"):
                raise MergeRefused(
                    f"cannot merge: editor {editor!r} names different systems in {seen[editor][0]} "
                    f"({_short(seen[editor][1])}) and {name} ({_short(entry.get('describe'))}); rename one "
                    f"(e.g. evaluate it as --editors NEWNAME=...)"
                )
            seen.setdefault(editor, (name, entry.get("describe")))


def _short(describe: Any) -> str:
    text = json.dumps(describe, sort_keys=True, default=str)
    return text if len(text) <= 120 else text[:119] + "…"


def merge_runs(
    runs: list[str | Path], out: str | Path, figures: bool = True, overwrite: bool = False
) -> Path:
    """Write the merged run of ``runs`` (folders or results.json files) into ``out``."""
    from faceedit_bench.harness.inputs.rundir import run_folder, run_identity
    from faceedit_bench.harness.outputs.results import validate_results, write_results
    from faceedit_bench.reports.results import load_results, results_path
    from faceedit_bench.reports.tables import write_tables

    if len(runs) < 2:
        raise ConfigError("merge needs at least two runs")
    paths = [results_path(r) for r in runs]
    resolved = [p.resolve() for p in paths]
    if len(set(resolved)) < len(resolved):
        raise ConfigError("merge: the same run is given twice")
    out = Path(out)
    if out.resolve() in {p.parent for p in resolved}:
        raise ConfigError(f"merge: --out {out} is one of the runs being merged; choose another folder")
    names = [str(p) for p in paths]
    loaded = [load_results(p) for p in paths]
    samples = [_samples(p.parent) for p in paths]
    notes = check_mergeable(names, loaded, samples)
    merged, rows, origin = _merge_results(names, loaded, samples)
    notes += _recompute(merged, rows, names, loaded, origin)
    identity = run_identity("merge", list(merged["editors"]), {"runs": sorted(names)}, merged["protocol"])
    with run_folder(out, identity, overwrite=overwrite):
        notes += _merge_artifacts([p.parent for p in paths], names, origin, out, list(merged["editors"]))
        merged["merge"] = {"runs": names, "editors_from": origin, "notes": notes}
        validate_results(merged, "merged results")
        write_results(out, merged, rows)
        write_tables(out, out / "tables")
        if figures:
            from faceedit_bench.reports.figures import make_figures

            make_figures(out)
    for note in notes:
        print(f"note: {note}")
    return out


def _merge_results(
    names: list[str], loaded: list[dict[str, Any]], samples: list[list[dict[str, Any]]]
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, str]]:
    """The merged results dict (without statistics), its samples in pair order, editor -> source run."""
    from faceedit_bench.harness.stats.pair_set import pair_set_digest, sample_ids

    base = loaded[0]
    merged = {k: copy.deepcopy(v) for k, v in base.items() if k not in _CROSS_EDITOR}
    merged["editors"], merged["metrics_meta"] = {}, {}
    origin: dict[str, str] = {}
    by_editor: dict[str, list[dict[str, Any]]] = {}
    for name, data, rows in zip(names, loaded, samples, strict=True):
        for mid, meta in data.get("metrics_meta", {}).items():
            merged["metrics_meta"].setdefault(mid, meta)
        replicates = {r for s in (data.get("seeds") or {}).values() for r in s["replicates"]}
        for editor, entry in data["editors"].items():
            if editor in merged["editors"]:
                continue  # the same system (checked): the first run that has it counts
            merged["editors"][editor] = {**copy.deepcopy(entry), "merged_from": name}
            origin[editor] = name
            if editor in replicates or entry.get("status", "ok") == "ok":
                by_editor[editor] = [r for r in rows if r["editor"] == editor]
    order = {sid: i for i, sid in enumerate(sample_ids(samples[0]))}
    out_rows = [
        row
        for editor in merged["editors"]
        for row in sorted(by_editor.get(editor, []), key=lambda r: order.get(str(r["sample_id"]), len(order)))
    ]
    merged["protocol"]["pair_set"] = pair_set_digest(order)
    merged["config"] = {**base["config"], "command": "merge", "merged_runs": names}
    return merged, out_rows, origin


def _recompute(
    merged: dict[str, Any],
    rows: list[dict[str, Any]],
    names: list[str],
    loaded: list[dict[str, Any]],
    origin: dict[str, str],
) -> list[str]:
    """Intervals, seeds and paired comparisons of the merged run from the pooled samples."""
    from faceedit_bench.harness.stats.comparisons import add_statistics

    seeds: dict[str, Any] = {}
    for data in loaded:
        for base, block in (data.get("seeds") or {}).items():
            if all(origin.get(r) == origin.get(block["replicates"][0]) for r in block["replicates"]):
                seeds.setdefault(base, block)
    replicates = {b: list(s["replicates"]) for b, s in seeds.items()}
    checkpoints = {b: list(s.get("checkpoints") or []) for b, s in seeds.items()}
    reference = next(
        ((d.get("comparisons") or {}).get("reference") for d in loaded if d.get("comparisons")), None
    )
    add_statistics(merged, rows, checkpoints, replicates, reference)
    return _carry_set_metrics(merged, dict(zip(names, loaded, strict=True)), origin)


def _carry_set_metrics(
    merged: dict[str, Any], by_name: dict[str, dict[str, Any]], origin: dict[str, str]
) -> list[str]:
    """FID/KID rows and winners from the source runs where every editor compared comes from one run."""
    block = merged["comparisons"]
    have = {(r["editor"], r["reference"], r["metric"]) for r in block["rows"]}
    per_sample = {r["metric"] for r in block["rows"]}
    refs = {block.get("reference"), "identity"}
    notes: list[str] = []
    carried, missing = 0, set()
    for run_name, data in by_name.items():
        for row in (data.get("comparisons") or {}).get("rows", []):
            key = (row["editor"], row["reference"], row["metric"])
            if key in have or row["metric"] in per_sample:
                continue
            if row["reference"] not in refs:
                continue  # a reference block the merged run does not show
            if origin.get(row["editor"]) == run_name and origin.get(row["reference"]) == run_name:
                block["rows"].append({**row, "carried_from": run_name})
                have.add(key)
                carried += 1
    set_ids = {
        mid
        for entry in merged["editors"].values()
        for mid, v in entry.get("metrics", {}).items()
        if v.get("key", mid.split("@")[0]) in ("fid", "kid")
    }
    competing = [
        e
        for e, entry in merged["editors"].items()
        if entry.get("group") in ("two-stage", "baseline", "external") and entry.get("status", "ok") == "ok"
        and "seed_of" not in entry
    ]  # fmt: skip
    for mid in sorted(set_ids):
        if mid in block["winners"]:
            continue
        sources = {origin.get(e) for e in competing if mid in merged["editors"][e].get("metrics", {})}
        win = None
        if len(sources) == 1:
            run_name = sources.pop()
            win = ((by_name.get(run_name) or {}).get("comparisons") or {}).get("winners", {}).get(mid)
        if win is not None:
            block["winners"][mid] = {**win, "carried_from": run_name}
        else:
            missing.add(mid)
    if carried:
        notes.append(
            f"{carried} FID/KID comparison row(s) carried over from the run that scored both editors "
            "(FID/KID have no per-sample values to pool)"
        )
    if missing:
        notes.append(
            f"{', '.join(sorted(missing))}: editors of different runs are not compared (no per-sample values "
            "and no features to pool), so no winner and no bold in these columns"
        )
    return notes


# --- figures' inputs ---------------------------------------------------------------------


def _editor_keys(arrays: dict[str, np.ndarray], editors: set[str]) -> dict[str, str]:
    """Per-editor array names (``edited__E``, ``flow__E``, ``edited__E__AU12``) -> editor."""
    out = {}
    for key in arrays:
        parts = key.split("__")
        if len(parts) >= 2 and parts[1] in editors:
            out[key] = parts[1]
    return out


def _merge_npz(
    stem: str, folders: list[Path], names: list[str], origin: dict[str, str], editors: list[str]
) -> tuple[dict[str, np.ndarray] | None, list[str]]:
    loaded: dict[str, dict[str, np.ndarray]] = {}
    for folder, name in zip(folders, names, strict=True):
        path = folder / "artifacts" / f"{stem}.npz"
        if path.is_file():
            with np.load(path, allow_pickle=False) as npz:  # arrays only, never pickles
                loaded[name] = {k: npz[k] for k in npz.files}
    if not loaded:
        return None, []
    shared: dict[str, np.ndarray] = {}
    per_editor: dict[str, dict[str, np.ndarray]] = {}
    for name, arrays in loaded.items():
        own = {str(e) for e in arrays.get("editors", np.array([]))}
        ekeys = _editor_keys(arrays, own)
        for key, value in arrays.items():
            if key == "editors":
                continue
            if key in ekeys:
                if origin.get(ekeys[key]) == name:
                    per_editor.setdefault(ekeys[key], {})[key] = value
                continue
            if key in shared and (shared[key].shape != value.shape or not np.array_equal(shared[key], value)):
                return None, [
                    f"artifacts/{stem}.npz not merged: its {key!r} differs between {names[0]} and {name} "
                    f"(other samples shown), so what is built from it (figures, the HTML report's browser) "
                    "is not made for the merged run"
                ]
            shared.setdefault(key, value)
    kept = [e for e in editors if e in per_editor]
    lacking = [e for e in editors if e not in per_editor and origin.get(e) not in loaded]
    notes = []
    if lacking:
        absent = sorted({origin[e] for e in lacking})
        notes.append(
            f"artifacts/{stem}.npz: {', '.join(absent)} wrote none, so {', '.join(lacking)} "
            f"{'is' if len(lacking) == 1 else 'are'} not in the figures built from it"
        )
    arrays = {**shared, **{k: v for e in kept for k, v in per_editor[e].items()}, "editors": np.array(kept)}
    return arrays, notes


def _merge_artifacts(
    folders: list[Path], names: list[str], origin: dict[str, str], out: Path, editors: list[str]
) -> list[str]:
    """Merge ``artifacts/*.npz`` and copy training logs; return notes on what could not be merged."""
    from faceedit_bench.harness.outputs.results import write_npz_atomic
    from faceedit_bench.io import write_bytes_atomic

    notes: list[str] = []
    stems = sorted({p.stem for f in folders for p in (f / "artifacts").glob("*.npz")})
    for stem in stems:
        arrays, more = _merge_npz(stem, folders, names, origin, editors)
        notes += more
        if arrays is not None:
            write_npz_atomic(out / "artifacts" / f"{stem}.npz", arrays)
    by_name = dict(zip(names, folders, strict=True))
    for editor in editors:
        log = by_name[origin[editor]] / "artifacts" / "training" / f"{editor}.jsonl"
        if log.is_file() and not log.is_symlink():
            write_bytes_atomic(out / "artifacts" / "training" / log.name, log.read_bytes())
    return notes
