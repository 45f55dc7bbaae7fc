"""The short table printed at the end of ``compare`` (primary metrics, one row per editor)."""

from __future__ import annotations

from typing import Any


def summary_rows(data: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of primary metric values; arrows give each metric's direction."""
    meta = data.get("metrics_meta", {})
    keys = [k for k, m in meta.items() if m.get("primary")]
    present = [k for k in keys if any(k in e.get("metrics", {}) for e in data["editors"].values())]
    header = ["editor"] + [f"{k} {'↑' if meta[k]['higher_is_better'] else '↓'}" for k in present]
    rows = []
    for name, entry in data["editors"].items():
        if entry.get("status") != "ok":  # the status fills the first metric column (if there is one)
            rows.append([name, *([entry.get("status", "?")] + [""] * (len(present) - 1))[: len(present)]])
            continue
        metrics = entry["metrics"]
        rows.append([name] + [f"{metrics[k]['value']:.4g}" if k in metrics else "-" for k in present])
    return header, rows


def print_summary(data: dict[str, Any]) -> None:
    header, rows = summary_rows(data)
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print()
    print(
        f"{data['protocol']['name']} v{data['protocol']['version']} ({data['protocol'].get('n_pairs_evaluated', '?')} pairs)"
    )
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))
    for name, entry in data["editors"].items():
        lost = entry.get("failed_samples") or []
        if lost:
            named = ", ".join(f"{f['sample_id']} ({f['reason']})" for f in lost[:3])
            more = f" and {len(lost) - 3} more" if len(lost) > 3 else ""
            total = (entry.get("no_face") or {}).get("n", "?")
            print(
                f"  {name}: {len(lost)} of {total} sample(s) failed and are scored worst in every metric: "
                f"{named}{more}"
            )
        if entry.get("status") == "failed":
            print(f"  {name}: failed: {entry.get('reason')}")
        nf = entry.get("no_face") or {}
        if nf.get("edited") or nf.get("source"):
            print(
                f"  {name}: no face: {nf.get('edited', 0)}/{nf.get('n', 0)} edited, {nf.get('source', 0)}/{nf.get('n', 0)} sources"
            )
    print_comparisons(data)


def print_comparisons(data: dict[str, Any]) -> None:
    """Primary metrics of each editor against the reference: difference, 95% interval, verdict."""
    block = data.get("comparisons") or {}
    meta = data.get("metrics_meta", {})
    rows = [
        r for r in block.get("rows", [])
        if r["reference"] == block.get("reference") and meta.get(r["metric"], {}).get("primary")
        and "_AU" not in r["metric"]
    ]  # fmt: skip
    if not rows:
        return
    print(f"\npaired differences vs {block['reference']} ({block.get('resampled', '')}; seeds pooled):")
    for r in rows:
        verdict = "n.s." if not r["significant"] else ("better" if r["better"] == r["editor"] else "worse")
        lo, hi = r["ci95"]
        seeds = "x".join(str(s) for s in r["n_seeds"])
        print(
            f"  {r['editor']:<20} {r['metric']:<32} {r['difference']:+.4g} [{lo:+.4g}, {hi:+.4g}]"
            f"  p={r['p']:.3g}  {verdict}  seeds {seeds}"
        )
