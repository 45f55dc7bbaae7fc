"""``faceedit-bench audit``: how far a protocol's AU judge can be pushed without an edit."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

EPILOG = """\
On the protocol's first N source images: the judged AU MAE against the requested AUs
of the unchanged sources, of the true targets (where the protocol has them), and of
the sources changed by an attack that sees only the judge. A judge with gradients gets
a white-box PGD within +-e/255 per pixel for each budget e (8-bit rounded); any other
judge a black-box probe (colour blobs, occluding patches, blur, half-face masks). Every
compare run records the same block in results.json ("judge_audit") unless
--no-judge-audit; this command runs it alone.
examples:
  faceedit-bench audit --protocol aurig-smoke
  faceedit-bench audit --protocol aurig-demo --n-sources 200 --budgets 0.5 1 2 4 8 --out audit.json
  faceedit-bench audit --protocol video-reenact --au-detector mediapipe
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from faceedit_bench.harness.audit.judge_audit import DEFAULT_BUDGETS, MAX_SOURCES
    from faceedit_bench.protocols import DEFAULT_PROTOCOL

    p = subparsers.add_parser(
        "audit",
        help="audit a protocol's AU judge: the AU MAE a small attack reaches without an edit",
        description="Attack a protocol's AU judge(s) on unedited sources and report the AU MAE reached.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--protocol", default=DEFAULT_PROTOCOL, help=f"registered protocol (default: {DEFAULT_PROTOCOL})"
    )
    p.add_argument(
        "--au-detector", default=None, help="force an AU detector backend (default: the protocol's)"
    )
    p.add_argument(
        "--n-sources", type=int, default=MAX_SOURCES, help=f"first pairs audited (default: {MAX_SOURCES})"
    )
    p.add_argument("--budgets", type=float, nargs="+", default=list(DEFAULT_BUDGETS),
                   help="white-box L-inf budgets in 8-bit levels, e/255 (default: 1 2 4)")  # fmt: skip
    p.add_argument("--steps", type=int, default=40, help="PGD steps per budget (default: 40)")
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto")
    p.add_argument("--out", type=Path, default=None, help="also write the audit as JSON to this file")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from faceedit_bench.harness.audit.judge_audit import audit_pairs
    from faceedit_bench.harness.inputs.backends import choose_backends
    from faceedit_bench.harness.inputs.pairs import build_pairs, resolve_device
    from faceedit_bench.io import write_json_atomic
    from faceedit_bench.protocols import resolve_protocol

    if args.n_sources < 1 or args.steps < 1 or any(b <= 0 for b in args.budgets):
        raise ValueError("--n-sources and --steps must be >= 1 and every --budgets value > 0")
    protocol = resolve_protocol(args.protocol, None, {})
    if args.au_detector and "detector" in protocol.dataset_args:  # frames labelled by the audited judge
        protocol = dataclasses.replace(
            protocol, dataset_args={**protocol.dataset_args, "detector": args.au_detector}
        )
    judges = {k: v for k, v in protocol.backends.items() if k.startswith("au_detector")}
    overrides = {"au_detector": args.au_detector} if args.au_detector else {}
    backends, choices = choose_backends(
        dataclasses.replace(protocol, backends=judges), overrides, resolve_device(args.device)
    )
    for kind, choice in choices.items():
        if choice.name is None:
            print(f"note: no usable {kind} backend ({choice.rejected})")
    budgets = [int(b) if float(b).is_integer() else b for b in args.budgets]
    audits = audit_pairs(backends, build_pairs(protocol), args.n_sources, budgets, args.steps)
    if not audits:
        raise ValueError(f"protocol {protocol.name}: no usable AU judge to audit")
    print(f"{protocol.name} v{protocol.version}: judge audit (AU MAE vs the requested AUs; lower = closer)")
    for label, block in audits.items():
        print(format_block(label, block))
    if args.out is not None:
        write_json_atomic(
            args.out, {"protocol": protocol.name, "version": protocol.version, "judge_audit": audits}
        )
        print(f"wrote {args.out}")
    return 0


def format_block(label: str, block: dict[str, Any]) -> str:
    """A few aligned lines: unchanged, truth, then each budget or probe with the gap it closes."""
    if "error" in block:
        return f"{label}: not measured ({block['error']})"
    head = f"{label} ({block['kind']}): {block['method']}, first {block['n_sources']} of {block['n_pairs']} pairs"
    head += f", {block['steps']} steps" if "steps" in block else ""
    rows = [("unchanged sources", block["unchanged_mae"], None), ("true targets", block["truth_mae"], None)]
    if "budgets" in block:
        rows += [
            (f"±{r['eps_255']:g}/255 attack", r["reached_mae"], r["gap_closed"]) for r in block["budgets"]
        ]
    else:
        rows += [(name, p["reached_mae"], p["gap_closed"]) for name, p in block["probes"].items()]
        rows.append(("best of all probes", block["best"]["reached_mae"], block["best"]["gap_closed"]))
    lines = [f"{head}, {block['seconds']:.1f} s"]
    for name, mae, gap in rows:
        value = "n/a" if mae is None else f"{mae:.3f}"
        closed = "" if gap is None else f"   gap closed {gap:.0%}"
        lines.append(f"  {name:<22} {value:>6}{closed}")
    return "\n".join(lines)
