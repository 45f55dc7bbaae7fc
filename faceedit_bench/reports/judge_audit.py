"""Reading notes from the ``judge_audit`` block of ``results.json``: one line per AU judge.

The line says what AU MAE an attack on the unedited sources reaches with each judge
(:mod:`faceedit_bench.harness.audit.judge_audit`), beside the unchanged sources and the true
targets, so an editor's AU MAE can be read against what needs no edit at all.
"""

from __future__ import annotations

from typing import Any


def _num(x: Any) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def _pct(x: Any) -> str:
    return "n/a" if x is None else f"{x:.0%}"


def _tail(block: dict[str, Any], gaps: list[Any]) -> str:
    truth = "" if block.get("truth_mae") is None else f", truth {_num(block['truth_mae'])}"
    floor = "truth" if block.get("truth_mae") is not None else "0"
    closed = ", ".join(_pct(g) for g in gaps)
    return f"(unchanged {_num(block.get('unchanged_mae'))}{truth}; gap to {floor} closed {closed})"


def audit_line(label: str, block: dict[str, Any]) -> str:
    """``Judge audit (aurig-ref, white-box PGD, 64 sources): a ±1/255 change reaches AU MAE 0.59, ...``."""
    if "error" in block:
        return f"Judge audit ({label}): not measured ({block['error']})"
    head = f"Judge audit ({label}, {block['method']}, {block['n_sources']} sources"
    if "budgets" in block:
        rows = block["budgets"]
        reached = ", ".join(
            f"{'a ' if i == 0 else ''}±{r['eps_255']:g}/255{' change reaches AU MAE' if i == 0 else ''} "
            f"{_num(r['reached_mae'])}"
            for i, r in enumerate(rows)
        )
        return f"{head}): {reached} {_tail(block, [r['gap_closed'] for r in rows])}"
    probes = block.get("probes", {})
    draws = max((p.get("draws", 1) for p in probes.values()), default=1)
    each = ", ".join(f"{name} {_num(p['reached_mae'])}" for name, p in probes.items())
    best = block.get("best", {})
    return (
        f"{head}, best of {draws} random draws per sample; no edit, only paint, occlusion or blur): "
        f"AU MAE reached by {each}; by any of them {_num(best.get('reached_mae'))} "
        f"{_tail(block, [best.get('gap_closed')])}"
    )


def judge_audit_notes(results: dict[str, Any]) -> list[str]:
    """One :func:`audit_line` per audited AU judge (none for runs without the block)."""
    block = results.get("judge_audit") or {}
    return [audit_line(label, entry) for label, entry in block.items() if isinstance(entry, dict)]
