"""AU-rig renderer throughput: single images/s and pairs-with-flow/s at 64 and 128 px.

    .venv/bin/python bench/bench_aurig.py [--threads 1] [--batch 64] [--seconds 3]

Pairs count as two images each (source + target) and include the backward flow,
the texture mask and landmarks. ``--psnr`` also measures how well the true flow
explains the target: PSNR of the flow-warped source against the target, outside
and inside the texture mask (and, for scale, of the unwarped source). Targets on the 2-core machine: >= 1000 img/s at
64 px and >= 250 img/s at 128 px. The machine is shared, so repeat and report the
best of a few runs together with the load average; the ``*_per_cpu_s`` rates count
only this process's CPU time and move less with the others' load.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import torch

from faceedit_bench.aurig.dataset import AuRigDataset


def _rate(fn, n_items: int, seconds: float) -> tuple[float, float]:
    """Items per wall-clock second and per CPU second of this process (less sensitive to others' load)."""
    fn(0)  # warm-up
    done, t0, c0, i = 0, time.perf_counter(), time.process_time(), 1
    while time.perf_counter() - t0 < seconds:
        fn(i)
        done += n_items
        i += 1
    return done / (time.perf_counter() - t0), done / (time.process_time() - c0)


def bench(res: int, batch: int, seconds: float) -> dict[str, float]:
    ds = AuRigDataset("train", res)
    pairs = ds.make_pairs(100 * batch, seed=0)
    single, single_cpu = _rate(lambda i: ds.get_batch(range(i * batch, (i + 1) * batch)), batch, seconds)
    pair, pair_cpu = _rate(lambda i: pairs.batch(range(i * batch, (i + 1) * batch)), batch, seconds)
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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--res", type=int, nargs="+", default=[64, 128])
    p.add_argument("--psnr", action="store_true", help="also measure the flow ground truth (200 test pairs)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    out = {"threads": a.threads, "batch": a.batch, "load_avg_before": os.getloadavg()[0]}
    for res in a.res:
        out[f"{res}px"] = {k: round(v, 1) for k, v in bench(res, a.batch, a.seconds).items()}
        if a.psnr:
            out[f"{res}px"].update({k: round(v, 3) for k, v in flow_psnr(res, 200).items()})
    out["load_avg_after"] = os.getloadavg()[0]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
