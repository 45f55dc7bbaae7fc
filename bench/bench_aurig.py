"""AU-rig renderer throughput: single images/s and pairs-with-flow/s at 64 and 128 px.

    .venv/bin/python bench/bench_aurig.py [--threads 1] [--procs 2] [--batch 64] [--seconds 8]

Pairs count as two images each (source + target) and include the backward flow,
the texture mask and landmarks. ``--psnr`` also measures how well the true flow
explains the target: PSNR of the flow-warped source against the target, outside
and inside the texture mask (and, for scale, of the unwarped source). Targets on the
2-core machine: >= 1000 img/s at 64 px and >= 250 img/s at 128 px.

The renderer runs each batch on one thread (:mod:`faceedit_bench.aurig.threads`), so a
machine's throughput comes from processes: ``--procs N`` renders disjoint batches in N
processes over the same timed window and reports their sum next to the one-process
rate. The machine is shared, so repeat and report the best of a few runs together
with the load average; the ``*_per_cpu_s`` rates count only the bench processes'
CPU time and move less with the others' load.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import time

import torch

from faceedit_bench.aurig.dataset import AuRigDataset


def _rate(fn, n_items: int, seconds: float, barrier=None) -> tuple[float, float]:
    """Items per wall-clock second and per CPU second of this process (less sensitive to others' load)."""
    fn(0)  # warm-up
    if barrier is not None:
        barrier.wait()
    done, t0, c0, i = 0, time.perf_counter(), time.process_time(), 1
    while time.perf_counter() - t0 < seconds:
        fn(i)
        done += n_items
        i += 1
    return done / (time.perf_counter() - t0), done / (time.process_time() - c0)


def bench(res: int, batch: int, seconds: float, offset: int = 0, barrier=None) -> dict[str, float]:
    """Rates of one process; ``offset`` picks its batches, ``barrier`` aligns its timed windows with others'."""
    ds = AuRigDataset("train", res)
    pairs = ds.make_pairs(100 * batch * (offset + 1), seed=0)

    def batches(i: int) -> range:
        start = (offset * 100 + i % 100) * batch
        return range(start, start + batch)

    single, single_cpu = _rate(lambda i: ds.get_batch(batches(i)), batch, seconds, barrier)
    pair, pair_cpu = _rate(lambda i: pairs.batch(batches(i)), batch, seconds, barrier)
    return {
        "single_img_per_s": single,
        "pairs_per_s": pair,
        "pair_img_per_s": 2 * pair,
        "single_img_per_cpu_s": single_cpu,
        "pair_img_per_cpu_s": 2 * pair_cpu,
    }


def flow_psnr(res: int, n_pairs: int) -> dict[str, float]:
    """PSNR (dB) of ``grid_sample(source, flow)`` vs target, outside / inside the texture mask."""
    import torch.nn.functional as F

    pb = AuRigDataset("test", res).make_pairs(n_pairs, seed=2020).batch(range(n_pairs))
    warped = F.grid_sample(pb.source, pb.flow, mode="bilinear", padding_mode="border", align_corners=False)

    def psnr(a: torch.Tensor, w: torch.Tensor) -> float:
        err = ((a - pb.target_image) ** 2 * w).sum() / (w.sum() * 3)
        return float(-10 * torch.log10(err))

    out, ins = 1 - pb.texture_mask, pb.texture_mask
    return {
        "psnr_outside_mask": psnr(warped, out),
        "psnr_inside_mask": psnr(warped, ins),
        "psnr_unwarped_outside_mask": psnr(pb.source, out),
        "mask_fraction": float(ins.mean()),
    }


def _worker(res: int, batch: int, seconds: float, offset: int, barrier, queue) -> None:
    torch.set_num_threads(1)
    queue.put(bench(res, batch, seconds, offset, barrier))


def bench_procs(res: int, batch: int, seconds: float, procs: int) -> dict[str, float]:
    """Sum of ``procs`` processes' rates over the same timed windows (disjoint batches)."""
    ctx = mp.get_context("spawn")
    barrier, queue = ctx.Barrier(procs), ctx.Queue()
    workers = [
        ctx.Process(target=_worker, args=(res, batch, seconds, k, barrier, queue)) for k in range(procs)
    ]
    for w in workers:
        w.start()
    parts = [queue.get() for _ in workers]
    for w in workers:
        w.join()
    return {k: sum(p[k] for p in parts) for k in parts[0]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument(
        "--procs", type=int, default=2, help="also measure N rendering processes together (0: skip)"
    )
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--res", type=int, nargs="+", default=[64, 128])
    p.add_argument("--psnr", action="store_true", help="also measure the flow ground truth (200 test pairs)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    out = {"threads": a.threads, "batch": a.batch, "load_avg_before": os.getloadavg()[0]}
    for res in a.res:
        out[f"{res}px"] = {k: round(v, 1) for k, v in bench(res, a.batch, a.seconds).items()}
        if a.procs > 1:
            both = bench_procs(res, a.batch, a.seconds, a.procs)
            out[f"{res}px_{a.procs}procs"] = {k: round(v, 1) for k, v in both.items()}
        if a.psnr:
            out[f"{res}px"].update({k: round(v, 3) for k, v in flow_psnr(res, 200).items()})
    out["load_avg_after"] = os.getloadavg()[0]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
