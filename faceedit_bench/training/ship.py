"""Turn a finished training run into a shipped checkpoint: weights, record, training curves.

    python -m faceedit_bench.training.ship RUN_DIR DEST_DIR [--note TEXT]

writes ``DEST_DIR/<editor>.pt`` (generator only, fp16), ``<editor>.json`` (the exact
command, seed, steps, wall time, code version, final metrics) and
``<editor>.metrics.jsonl`` (a copy of the run's metrics). Into the package's assets tree
(``faceedit_bench/assets/editors/<set>``) the log goes to ``assets/logs/editors/<set>/`` and
the assets manifest is rebuilt, so the new weights load (see :mod:`faceedit_bench.shipped`).
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
from pathlib import Path

from faceedit_bench.io import sha256_file, write_json_atomic
from faceedit_bench.shipped import is_shipped, rebuild_manifest, training_log
from faceedit_bench.training.checkpoint import export_weights


def ship(run_dir: Path, dest_dir: Path, note: str = "") -> Path:
    """Export ``run_dir``'s checkpoint into ``dest_dir``; returns the weights path."""
    config = json.loads((run_dir / "config.json").read_text())
    summary = json.loads((run_dir / "summary.json").read_text())
    editor = config["editor"]
    weights = dest_dir / f"{editor}.pt"
    state = export_weights(run_dir / "checkpoint.pt", weights, half=True)
    into_assets = is_shipped(dest_dir)
    log = training_log(weights) if into_assets else dest_dir / f"{editor}.metrics.jsonl"
    log.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run_dir / "metrics.jsonl", log)
    argv = config.get("argv") or []
    command = "faceedit-bench " + shlex.join(argv[1:]) if argv else None
    record = {
        "editor": editor,
        "command": command,
        "seed": summary["seed"],
        "steps": summary["steps"],
        "wall_time_s": summary["wall_time_s"],
        "code_version": summary["code_version"],
        "final_metrics": summary["final_metrics"],
        "resolution": state["resolution"],
        "spec": state["spec"],
        "config": {k: v for k, v in config.items() if k not in ("argv", "spec")},
        "weights": weights.name,
        "weights_sha256": sha256_file(weights),
        "weights_dtype": "float16",
        "supervision": state.get("supervision"),
        "note": note,
    }
    write_json_atomic(dest_dir / f"{editor}.json", record)
    if into_assets:
        rebuild_manifest()
    return weights


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("dest_dir", type=Path)
    parser.add_argument("--note", default="")
    args = parser.parse_args(argv)
    print(ship(args.run_dir, args.dest_dir, args.note))
    return 0


if __name__ == "__main__":
    sys.exit(main())
