"""Resume state of an evaluation pass: what one process has finished, as plain arrays.

Written to ``OUT/.partial/rank<r>-of-<w>.npz`` (``np.savez`` + ``os.replace``) and read
with ``allow_pickle=False``, so a planted file can at worst be refused, never run.
It holds per-sample values and, for distribution metrics (FID, KID), the edited-side
features of each finished batch, which are replayed through the metric on resume
(the same additions in the same order, so results equal an uninterrupted run's).
No moment matrices and no images beyond the few qualitative ones: a few MB.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from faceedit_bench.io import write_bytes_atomic

FORMAT = "faceedit-bench-partial/1"


@dataclass
class SampleFailure:
    """One pair an editor could not edit (unreadable, wrong size, huge...)."""

    index: int
    sample_id: str
    identity_id: str
    reason: str


@dataclass
class EditorState:
    """What one process has accumulated for one editor."""

    values: dict[str, list[float]] = field(default_factory=dict)  # key@backend -> per-sample
    order: list[int] = field(default_factory=list)  # pair index of each per-sample entry
    sample_ids: list[str] = field(default_factory=list)
    identity_ids: list[str] = field(default_factory=list)
    no_face: dict[str, int] = field(default_factory=lambda: {"source": 0, "edited": 0, "target": 0})
    failed: str | None = None
    failures: list[SampleFailure] = field(default_factory=list)
    # (batch, rows of the batch that were edited, edited-side distribution features)
    dist_inputs: list[tuple[int, list[int], np.ndarray]] = field(default_factory=list)
    dist_states: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)  # in memory only


@dataclass
class RunState:
    fingerprint: str
    done_batches: list[int] = field(default_factory=list)
    editors: dict[str, EditorState] = field(default_factory=dict)
    qualitative: dict[str, np.ndarray] = field(default_factory=dict)


def save_partial(state: RunState, path: Path) -> None:
    """Write ``state`` atomically as an ``.npz`` of plain arrays plus a JSON header."""
    arrays: dict[str, np.ndarray] = {}
    editors: dict[str, Any] = {}
    for i, (name, ed) in enumerate(state.editors.items()):
        keys = list(ed.values)
        for j, key in enumerate(keys):
            arrays[f"e{i}_v{j}"] = np.asarray(ed.values[key], dtype=np.float64)
        arrays[f"e{i}_order"] = np.asarray(ed.order, dtype=np.int64)
        if ed.dist_inputs:
            arrays[f"e{i}_dist"] = np.concatenate([f for _, _, f in ed.dist_inputs])
        editors[name] = {
            "value_keys": keys,
            "sample_ids": ed.sample_ids,
            "identity_ids": ed.identity_ids,
            "no_face": ed.no_face,
            "failed": ed.failed,
            "failures": [[f.index, f.sample_id, f.identity_id, f.reason] for f in ed.failures],
            "dist_segments": [[b, rows] for b, rows, _ in ed.dist_inputs],
        }
    qualitative = list(state.qualitative)
    for k, name in enumerate(qualitative):
        arrays[f"q{k}"] = np.asarray(state.qualitative[name])
    header = {
        "format": FORMAT,
        "fingerprint": state.fingerprint,
        "done_batches": state.done_batches,
        "editors": editors,
        "qualitative": qualitative,
    }
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    write_bytes_atomic(path, buffer.getvalue())


def load_partial(path: Path, fingerprint: str) -> RunState | None:
    """The state saved at ``path`` if it is readable and from this exact run, else None (with a note)."""
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            header = json.loads(bytes(npz["header"]).decode())
            if header.get("format") != FORMAT:
                raise ValueError(f"format {header.get('format')!r}, expected {FORMAT!r}")
            if header["fingerprint"] != fingerprint:
                print(f"note: {path} belongs to a different run configuration; starting afresh")
                return None
            state = _decode(header, npz)
    except Exception as err:  # any damage: the file is data only, so starting afresh is safe
        print(
            f"warning: ignoring unreadable resume state {path} ({type(err).__name__}: {err}); starting afresh"
        )
        return None
    print(f"resuming: {len(state.done_batches)} batches already done ({path})")
    return state


def _decode(header: dict[str, Any], npz: Any) -> RunState:
    state = RunState(fingerprint=header["fingerprint"], done_batches=[int(b) for b in header["done_batches"]])
    for i, (name, meta) in enumerate(header["editors"].items()):
        order = npz[f"e{i}_order"].astype(np.int64).tolist()
        values = {
            key: npz[f"e{i}_v{j}"].astype(np.float64).tolist() for j, key in enumerate(meta["value_keys"])
        }
        if any(len(v) != len(order) for v in values.values()) or len(meta["sample_ids"]) != len(order):
            raise ValueError(f"editor {name!r}: per-sample columns of unequal length")
        dist_inputs: list[tuple[int, list[int], np.ndarray]] = []
        if meta["dist_segments"]:
            feats, start = npz[f"e{i}_dist"], 0
            for b, rows in meta["dist_segments"]:
                dist_inputs.append((int(b), [int(r) for r in rows], feats[start : start + len(rows)]))
                start += len(rows)
            if start != len(feats):
                raise ValueError(f"editor {name!r}: distribution features do not match their batches")
        state.editors[name] = EditorState(
            values=values,
            order=order,
            sample_ids=[str(s) for s in meta["sample_ids"]],
            identity_ids=[str(s) for s in meta["identity_ids"]],
            no_face={k: int(v) for k, v in meta["no_face"].items()},
            failed=meta["failed"],
            failures=[SampleFailure(int(i_), str(s), str(d), str(r)) for i_, s, d, r in meta["failures"]],
            dist_inputs=dist_inputs,
        )
    state.qualitative = {name: npz[f"q{k}"] for k, name in enumerate(header["qualitative"])}
    return state
