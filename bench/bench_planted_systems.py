"""The planted systems (faceedit_bench.planted) beside leaving the face unchanged, at full protocol size.

    .venv/bin/python bench/bench_planted_systems.py [--protocol aurig-demo] [--n-pairs N] [--planted pgd-2 ...]

Prints, per planted system, the headline (joint edit success) and the AU MAE under each AU
judge next to ``identity`` on the same pairs, with the paired difference and whether both
judges call it better. Every planted system must not beat ``identity`` on the headline.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from faceedit_bench.config import build_config
from faceedit_bench.harness.inputs.config import CompareConfig
from faceedit_bench.jobs.compare import run_compare
from faceedit_bench.planted import PLANTED


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--protocol", default="aurig-demo")
    p.add_argument("--n-pairs", type=int, default=None)
    p.add_argument("--planted", nargs="+", default=list(PLANTED), choices=list(PLANTED))
    a = p.parse_args()
    out = Path(tempfile.mkdtemp(prefix="planted-"))
    extra = {name: PLANTED[name]() for name in a.planted}
    cfg = build_config(
        CompareConfig, protocol=a.protocol, out=out, progress=False, figures=False, editors=["identity"],
        n_pairs=a.n_pairs, judge_audit=False, device="cpu",
    )  # fmt: skip
    run_compare(cfg, extra_editors=extra, command="api")
    data = json.loads((out / "results.json").read_text())
    headline = data["headline"]["metric"]
    au_keys = [k for k in data["editors"]["identity"]["metrics"] if k.startswith("au_mae@")]
    rows = {
        (r["editor"], r["metric"]): r for r in data["comparisons"]["rows"] if r["reference"] == "identity"
    }
    print(f"\n{a.protocol}, {data['protocol']['n_pairs_evaluated']} pairs; paired differences vs identity")
    for editor in ["identity", *a.planted]:
        m = data["editors"][editor]["metrics"]
        parts = [f"{headline} {m[headline]['value']:.3f}"]
        for key in [headline, *au_keys]:
            parts.append(f"{key} {m[key]['value']:.3f}") if key != headline else None
            r = rows.get((editor, key))
            if r is not None:
                verdict = "n.s." if not r["significant"] else ("better" if r["better"] == editor else "worse")
                parts.append(
                    f"  diff {r['difference']:+.3f} [{r['ci95'][0]:+.3f}, {r['ci95'][1]:+.3f}] {verdict}"
                )
        print(f"{editor:<16} n_failed {data['editors'][editor].get('n_failed', 0):>3}  " + " ".join(parts))
    print(f"(results in {out})")


if __name__ == "__main__":
    main()
