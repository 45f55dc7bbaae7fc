"""One-pass harness vs the same judges run one after another, and memory as work grows.

Prints, side by side in one run on the same pairs:
  * wall time of the harness computing FID, LPIPS, AU error and identity in one pass
    (images decoded once per batch, source/target-side judge outputs shared);
  * wall time of the same backends run one after another, each loading its own model
    and decoding its own images (what a user gets from four separate scripts);
  * peak resident memory of the one-pass run at N and at 10xN pairs (each in a fresh
    subprocess), with every backend of the protocol loaded.

Targets (issue 5): one-pass <= 0.6x the separate total; peak RSS(10N)/RSS(N) <= 1.2;
peak < 6 GiB. Usage:
  python bench/bench_harness.py [--protocol video-reenact] [--pairs 500] [--memory-pairs 500 5000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from faceedit_bench import plugins
from faceedit_bench.editors.reference import IdentityEditor
from faceedit_bench.harness.backends import choose_backends
from faceedit_bench.harness.compare import build_pairs
from faceedit_bench.harness.run import evaluate
from faceedit_bench.harness.step import BackendSet

METRICS = ("fid", "lpips", "au_error", "identity")


def _protocol(name: str, n_pairs: int):
    """The protocol with the four timed metrics and exactly ``n_pairs`` pairs (not capped at its own count)."""
    import dataclasses

    base = plugins.protocols.get(name)
    return dataclasses.replace(base, metrics=tuple(m for m in base.metrics if m in METRICS), n_pairs=n_pairs)


def _pairs(protocol, n_pairs: int):
    pairs = build_pairs(protocol)
    if len(pairs) != n_pairs:
        raise RuntimeError(f"{protocol.name}: asked for {n_pairs} pairs, got {len(pairs)}")
    return pairs


def _fresh_feature_cache(work: Path) -> None:
    """Real-side features are cached on disk: give each timed run its own empty cache."""
    os.environ["FACEEDIT_BENCH_CACHE_FEATURES"] = str(work / "features")


def one_pass(protocol_name: str, n_pairs: int, work: Path) -> float:
    protocol = _protocol(protocol_name, n_pairs)
    _fresh_feature_cache(work)
    start = time.perf_counter()
    pairs = _pairs(protocol, n_pairs)
    backends, choices = choose_backends(protocol)
    evaluate(protocol, pairs, {"identity": IdentityEditor()}, backends, choices, work, progress=False)
    return time.perf_counter() - start


def separately(protocol_name: str, n_pairs: int, work: Path) -> dict[str, float]:
    """Each metric alone: its own backend load, its own image decoding, its own pass."""
    import dataclasses

    base = _protocol(protocol_name, n_pairs)
    times: dict[str, float] = {}
    for metric in base.metrics:
        kind = plugins.metrics.get(metric).backend_kind
        protocol = dataclasses.replace(
            base, metrics=(metric,), backends={k: v for k, v in base.backends.items() if k == kind}
        )
        _fresh_feature_cache(work / metric)
        start = time.perf_counter()
        pairs = _pairs(protocol, n_pairs)
        backends, choices = choose_backends(protocol) if kind else (BackendSet(), {})
        evaluate(
            protocol, pairs, {"identity": IdentityEditor()}, backends, choices, work / metric, progress=False
        )
        times[metric] = time.perf_counter() - start
    return times


def peak_rss_child(protocol_name: str, n_pairs: int) -> float:
    """Peak resident memory (GiB) of a one-pass run in a fresh process."""
    code = (
        "import sys, tempfile, resource, torch; torch.set_num_threads(2);"
        "sys.path.insert(0, 'bench'); import bench_harness as b;"
        f"b.one_pass({protocol_name!r}, {n_pairs}, __import__('pathlib').Path(tempfile.mkdtemp()));"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--protocol", default="video-reenact")
    parser.add_argument("--pairs", type=int, default=500)
    parser.add_argument("--memory-pairs", type=int, nargs=2, default=(500, 5000))
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as tmp:
        # warm the real-side feature cache and backend weights for both variants alike
        one_pass(args.protocol, min(args.pairs, 8), Path(tmp) / "warm")
        t_one = one_pass(args.protocol, args.pairs, Path(tmp) / "one")
        t_sep = separately(args.protocol, args.pairs, Path(tmp) / "sep")
    total = sum(t_sep.values())
    print(f"protocol {args.protocol}, {args.pairs} pairs, metrics {', '.join(METRICS)}")
    print(f"  one pass          {t_one:8.1f} s")
    for metric, t in t_sep.items():
        print(f"  alone: {metric:10s} {t:8.1f} s")
    print(f"  separate total    {total:8.1f} s")
    print(f"  ratio one/separate {t_one / total:.2f}  (target <= 0.60)")
    result = {"one_pass_s": t_one, "separate_s": t_sep, "ratio": t_one / total}
    if not args.skip_memory:
        small, large = args.memory_pairs
        rss_small = peak_rss_child(args.protocol, small)
        rss_large = peak_rss_child(args.protocol, large)
        print(f"  peak RSS {small} pairs {rss_small:.2f} GiB, {large} pairs {rss_large:.2f} GiB, "
              f"ratio {rss_large / rss_small:.2f} (target <= 1.20; < 6 GiB)")  # fmt: skip
        result.update({"rss_gib": {str(small): rss_small, str(large): rss_large}})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
