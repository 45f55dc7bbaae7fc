"""``faceedit-bench ls``: what is registered, and which judge backends can run here."""

from __future__ import annotations

import argparse
import json


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ls",
        help="list editors, datasets, protocols, metrics and backends (with offline availability)",
        description="List registered plugins. For each judge backend: whether it is usable on this "
        "machine, and if not, which file to place where.",
    )
    parser.add_argument("kind", nargs="?", default="all",
                        choices=["all", "editors", "datasets", "protocols", "metrics", "backends", "recipes"],
                        help="what to list (default: all)")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(run=run)


def collect(kind: str) -> dict[str, object]:
    """The listing as plain data (used by --json and by tests)."""
    from faceedit_bench import plugins
    from faceedit_bench.harness.inputs.backends import backend_availability

    out: dict[str, object] = {}
    if kind in ("all", "editors"):
        out["editors"] = {
            n: {**plugins.editors.meta(n), "aliases": plugins.editors.aliases_of(n)} for n in plugins.editors
        }
    if kind in ("all", "recipes"):
        out["recipes"] = {n: recipe_listing(n) for n in plugins.recipes}
    if kind in ("all", "datasets"):
        out["datasets"] = {n: plugins.datasets.meta(n) for n in plugins.datasets}
    if kind in ("all", "protocols"):
        out["protocols"] = {}
        for n in plugins.protocols:
            p = plugins.protocols.get(n)
            out["protocols"][n] = {  # type: ignore[index]
                "version": p.version,
                "dataset": p.dataset,
                "resolution": p.resolution,
                "n_pairs": p.n_pairs,
                "metrics": list(p.metrics),
                "description": p.description,
            }
    if kind in ("all", "metrics"):
        out["metrics"] = {}
        for n in plugins.metrics:
            try:
                cls = plugins.metrics.get(n)
            except Exception as err:
                out["metrics"][n] = {"error": f"{type(err).__name__}: {err}"}  # type: ignore[index]
                continue
            out["metrics"][n] = {  # type: ignore[index]
                "higher_is_better": cls.higher_is_better,
                "needs_ground_truth": cls.needs_ground_truth,
                "per_sample": cls.per_sample,
                "backend_kind": cls.backend_kind or "exact",
                "description": cls.description,
            }
    if kind in ("all", "backends"):
        out["backends"] = {}
        for bk, registry in plugins.BACKEND_REGISTRIES.items():
            entries = {}
            for n in registry:
                avail = backend_availability(bk, n)
                entries[n] = {"usable": avail.usable, "reason": avail.reason, **registry.meta(n)}
            out["backends"][bk] = entries  # type: ignore[index]
    return out


def recipe_listing(name: str) -> dict[str, object]:
    """A recipe's registry entry with its numbers read from the recipe itself (never restated)."""
    from faceedit_bench import plugins

    recipe = plugins.recipes.get(name)
    values = recipe.values
    numbers = ", ".join(
        text
        for text in (
            f"{values['steps']:,} steps" if "steps" in values else "",
            f"{values['resolution']} px" if "resolution" in values else "",
            f"batch {values['batch_size']}" if "batch_size" in values else "",
        )
        if text
    )
    return {
        **plugins.recipes.meta(name),
        "steps": values.get("steps"),
        "resolution": values.get("resolution"),
        "batch_size": values.get("batch_size"),
        "help": f"{numbers}: {recipe.summary}" if numbers else recipe.summary,
    }


def run(args: argparse.Namespace) -> int:
    listing = collect(args.kind)
    if args.json:
        print(json.dumps(listing, indent=2, default=str))
        return 0
    for section, entries in listing.items():
        print(f"\n{section}:")
        if section == "backends":
            for bk, backends in entries.items():  # type: ignore[union-attr]
                print(f"  {bk}:")
                for n, info in backends.items():
                    mark = "yes" if info["usable"] else "no "
                    print(f"    [{mark}] {n:22s} {info.get('help', '')}")
                    print(f"          {info['reason']}")
            continue
        for n, info in entries.items():  # type: ignore[union-attr]
            if section == "editors":
                line = f"[{info.get('group', '')}] {info.get('help', '')}"
            elif section == "protocols":
                line = f"v{info['version']}: {info['description']}"
            elif section == "metrics":
                line = ", ".join(f"{k}={v}" for k, v in info.items() if k != "description")
            else:
                line = info.get("help", "")
            print(f"  {n:22s} {line}")
    return 0
