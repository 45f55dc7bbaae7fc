"""The public Python API: score your own editor, in a notebook, with the harness's judges.

    import faceedit_bench as fb

    res = fb.evaluate(lambda images, aus: images, protocol="aurig-smoke", name="copy")
    res.to_pandas()            # one row per (editor, metric): value, 95% CI, n, backend
    res.save("runs/mine")      # results.json, samples.jsonl, tables/

``editor`` is an :class:`~faceedit_bench.api.editor.Editor`, a registered editor name,
or any callable ``(images, target_aus) -> images`` (``(N, 3, H, W)`` in [0, 1], AUs
``(N, 17)`` on 0-5). The run is the same one ``faceedit-bench compare`` makes (same
pairs, judges, results format); nothing global changes, so re-running a cell works.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from faceedit_bench.protocols import DEFAULT_PROTOCOL

if TYPE_CHECKING:
    import pandas as pd


class EditorFailed(RuntimeError):
    """Your editor raised or returned something unusable; the message says what."""


@dataclass
class Results:
    """One run's results in memory: ``data`` is results.json, ``samples`` its samples.jsonl rows."""

    data: dict[str, Any]
    samples: list[dict[str, Any]] = field(default_factory=list)
    folder: Path | None = None  # where the run was written (None: a temporary folder, removed)

    @property
    def editors(self) -> list[str]:
        return list(self.data["editors"])

    def value(self, editor: str, metric: str) -> float:
        """One value, by editor and ``key@backend`` (or a bare key when one backend reported it)."""
        metrics = self.data["editors"][editor]["metrics"]
        if metric in metrics:
            return float(metrics[metric]["value"])
        found = [k for k in metrics if k.split("@", 1)[0] == metric]
        if len(found) != 1:
            raise KeyError(f"{editor}: metric {metric!r} not found; have {', '.join(sorted(metrics))}")
        return float(metrics[found[0]]["value"])

    def to_pandas(self, per_sample: bool = False) -> pd.DataFrame:
        """Long table: editor, metric (``key@backend``), key, backend, value, ci_lo, ci_hi, n, higher_is_better.

        ``per_sample=True``: one row per (editor, pair, metric) from samples.jsonl instead.
        """
        import pandas as pd

        if per_sample:
            rows = [
                {"editor": s["editor"], "sample_id": s["sample_id"], "metric": k, "value": v}
                for s in self.samples
                for k, v in s["values"].items()
            ]
            return pd.DataFrame(rows, columns=["editor", "sample_id", "metric", "value"])
        rows = []
        for editor, entry in self.data["editors"].items():
            for metric, m in entry.get("metrics", {}).items():
                ci = m.get("ci95") or [None, None]
                rows.append(
                    {
                        "editor": editor,
                        "metric": metric,
                        "key": m.get("key", metric.split("@", 1)[0]),
                        "backend": m["backend"],
                        "value": m["value"],
                        "ci_lo": ci[0],
                        "ci_hi": ci[1],
                        "n": m["n"],
                        "higher_is_better": m["higher_is_better"],
                    }
                )
        columns = ["editor", "metric", "key", "backend", "value", "ci_lo", "ci_hi", "n", "higher_is_better"]
        return pd.DataFrame(rows, columns=columns)

    def save(self, out: str | Path) -> Path:
        """Write results.json, samples.jsonl and tables/ into ``out`` (atomically, file by file)."""
        from faceedit_bench.harness.outputs.results import write_results
        from faceedit_bench.reports.tables import write_tables

        out = Path(out)
        write_results(out, self.data, self.samples)
        write_tables(out, out / "tables")
        return out

    def __repr__(self) -> str:
        p = self.data["protocol"]
        return f"<Results {p['name']} v{p['version']}: {', '.join(self.editors)}>"


def load(run_dir: str | Path) -> Results:
    """The results of a finished run folder (or its results.json)."""
    from faceedit_bench.harness.outputs.results import load_results

    path = Path(run_dir)
    folder = path if path.is_dir() else path.parent
    samples_path = folder / "samples.jsonl"
    samples = (
        [json.loads(line) for line in samples_path.read_text(encoding="utf-8").splitlines() if line]
        if samples_path.is_file()
        else []
    )
    return Results(load_results(folder / "results.json"), samples, folder)


def evaluate(
    editor: Any,
    protocol: str = DEFAULT_PROTOCOL,
    *,
    name: str | None = None,
    compare_with: tuple[str, ...] | list[str] = (),
    n_pairs: int | None = None,
    batch_size: int | None = None,
    device: str = "auto",
    out: str | Path | None = None,
    figures: bool = False,
    progress: bool = False,
    verbose: bool = False,
) -> Results:
    """Score ``editor`` on ``protocol`` (beside the registered editors in ``compare_with``).

    ``out=None`` runs in a temporary folder and keeps the results only in memory (use
    :meth:`Results.save`); with ``out`` the run folder stays, as ``compare`` writes it.
    Quiet by default: nothing is printed (show the numbers with :meth:`Results.to_pandas`);
    ``verbose=True`` prints what ``compare`` prints, less any line about the temporary
    folder (it is removed, so nothing there is kept). ``progress=True`` shows progress bars.
    Raises :class:`EditorFailed` when your editor failed on every pair.
    """
    from faceedit_bench.config import build_config
    from faceedit_bench.harness.inputs.config import CompareConfig
    from faceedit_bench.jobs.compare import run_compare
    from faceedit_bench.user_editors import as_editor

    label = name or ("mine" if not isinstance(editor, str) else editor)
    extra = {} if isinstance(editor, str) else {label: as_editor(editor, label)}
    registered = [*compare_with, *([editor] if isinstance(editor, str) else [])]
    temp = None if out is not None else Path(tempfile.mkdtemp(prefix="faceedit-bench-"))
    folder = Path(out) if out is not None else temp / "run"  # type: ignore[operator]
    try:
        config = build_config(
            CompareConfig,
            protocol=protocol,
            out=folder,
            editors=registered,
            n_pairs=n_pairs,
            batch_size=batch_size,
            device=device,
            figures=figures,
            progress=progress,
            **_no_html(CompareConfig),
        )
        with _console(verbose, temp):
            run_compare(config, extra_editors=extra or None, command="api")
        results = load(folder)
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
    if temp is not None:
        results.folder = None
        if verbose and figures:
            print("note: figures are kept only with out=DIR; these results are in memory only")
    entry = results.data["editors"].get(label)
    if entry is not None and entry.get("status") == "failed":
        raise EditorFailed(f"editor {label!r} failed: {entry.get('reason')}")
    if entry is not None and every_sample_failed(entry):
        first = entry["failed_samples"][0]
        raise EditorFailed(
            f"editor {label!r} failed on every one of its {len(entry['failed_samples'])} pairs "
            f"(first: {first['sample_id']}: {first['reason']})"
        )
    return results


class _DropLines(io.TextIOBase):
    """A text stream that passes whole lines to ``stream`` except those containing ``drop``."""

    def __init__(self, stream: Any, drop: str) -> None:
        self.stream, self.drop, self.pending = stream, drop, ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            if self.drop not in line:
                self.stream.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        if self.pending and self.drop not in self.pending:
            self.stream.write(self.pending)
        self.pending = ""
        self.stream.flush()


@contextlib.contextmanager
def _console(verbose: bool, temp: Path | None) -> Iterator[None]:
    """Where ``compare``'s console output goes: nowhere (quiet), or stdout less temp-folder lines."""
    if not verbose:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
        return
    if temp is None:
        yield
        return
    stream = _DropLines(sys.stdout, str(temp))
    try:
        with contextlib.redirect_stdout(stream):  # type: ignore[type-var]
            yield
    finally:
        stream.flush()


def every_sample_failed(entry: dict[str, Any]) -> bool:
    """Whether a results.json editor entry failed on every pair it was given."""
    lost = entry.get("failed_samples") or []
    n = (entry.get("no_face") or {}).get("n")
    return bool(lost) and n is not None and len(lost) >= int(n)


def _no_html(cls: type) -> dict[str, bool]:
    """Turn the HTML report off where the config has that option (a notebook shows tables itself)."""
    import dataclasses

    return {"html": False} if any(f.name == "html" for f in dataclasses.fields(cls)) else {}


def export(protocol: str, out: str | Path, **kwargs: Any):
    """:func:`faceedit_bench.harness.inputs.export.export_protocol`: a protocol's pairs for another system."""
    from faceedit_bench.harness.inputs.export import export_protocol

    return export_protocol(protocol, out, **kwargs)


def register_editor(name: str, editor: Any, *, help: str = "") -> None:
    """Register your editor under ``name`` (re-registering replaces it); see :mod:`faceedit_bench.user_editors`."""
    from faceedit_bench.user_editors import register_editor as _register

    _register(name, editor, help=help)
