"""How far photometric learning can take the two-stage motion step on AU-rig (issue #11's flow EPE).

The most favourable photometric setting there is: only the motion step of the shipped
two-stage spec, no critic, no texture step, trained to warp the source onto another
render of the same person showing the target AUs (``lambda_pair`` on the warp, the
``--pair-on warp`` loss of the trainer), with the recipe's flow TV and magnitude
penalties (its bias-reduce term, 0.1, is left out). The unpaired, adversarial setting
of the paper gets a weaker signal than this, so the flow EPE this probe reaches in N
steps bounds what the shipped recipe can reach in as many steps.
It prints the aurig-demo flow EPE (all / inside / outside the texture mask) every
``--every`` steps beside zero flow's. Never trains on the test split or the judges.

    .venv/bin/python bench/probe_flow_supervision.py --steps 3000 [--pair 10000] [--flow-tv 1]
        [--flow-mag 5] [--lr 2e-4] [--batch 16] [--channels C] [--save PATH] [--threads 1] [--amp]

The shipped pre-training of the same loss is ``faceedit_bench.training.motion_pretrain``
(resumable, scored on the val split); this probe scores the aurig-demo test pairs to
measure, and is not a training path.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from collections.abc import Iterator

import torch


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--pair", type=float, default=10000.0, help="weight of the warp's L1 to the partner")
    p.add_argument("--flow-tv", type=float, default=1.0)
    p.add_argument("--flow-mag", type=float, default=5.0)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument(
        "--channels", type=int, default=None, help="motion-net width (default: the shipped spec's)"
    )
    p.add_argument("--every", type=int, default=500)
    p.add_argument("--pairs", type=int, default=None, help="score on the first N test pairs")
    p.add_argument(
        "--save", default=None, help="write the motion step's weights and spec here at each report"
    )
    p.add_argument("--threads", type=int, default=1)
    p.add_argument(
        "--amp", action="store_true", help="bfloat16 autocast of the net, as motion_pretrain (measured: fp32)"
    )
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def run(args: argparse.Namespace) -> Iterator[dict]:
    """Yield the zero-flow row, then one row per ``args.every`` training steps."""
    from faceedit_bench.aurig.dataset import AuRigDataset
    from faceedit_bench.editors.spec import EditorSpec
    from faceedit_bench.editors.trained import shipped_checkpoint
    from faceedit_bench.editors.two_stage import TwoStageGenerator
    from faceedit_bench.harness.inputs.pairs import build_pairs
    from faceedit_bench.io import torch_save_atomic
    from faceedit_bench.protocols import AURIG_DEMO
    from faceedit_bench.training.motion_pretrain import flow_epe, motion_step_loss

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    shipped = shipped_checkpoint("two-stage", "aurig-64")
    spec_json = json.loads(shipped.with_suffix(".json").read_text())["spec"]
    spec = dataclasses.replace(
        EditorSpec.from_json(spec_json), use_texture=False, lambda_pair=args.pair, pair_on="warp"
    )
    if args.channels:
        spec = dataclasses.replace(spec, channels=args.channels)
    motion = TwoStageGenerator(spec).motion
    opt = torch.optim.Adam(motion.parameters(), lr=args.lr, betas=(0.5, 0.999))  # the trainer's betas
    train = AuRigDataset("train", AURIG_DEMO.resolution)
    rng = torch.Generator().manual_seed(args.seed)
    test = build_pairs(AURIG_DEMO, args.pairs).batch(list(range(args.pairs or AURIG_DEMO.n_pairs)))
    yield {"args": vars(args), "zero_flow": flow_epe(None, test)}

    start = time.perf_counter()
    for step in range(1, args.steps + 1):
        idx = torch.randint(len(train), (args.batch,), generator=rng).tolist()
        source = train.get_batch(idx)
        partner = train.get_batch(train.same_identity_partners(idx, rng))
        loss = motion_step_loss(
            motion, spec, source.images, partner.images, partner.aus, args.flow_tv, args.flow_mag, args.amp
        )
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % args.every == 0 or step == args.steps:
            epe = flow_epe(motion, test)
            if args.save:
                state = {"motion": motion.state_dict(), "spec": spec.to_json(), "step": step, "flow_epe": epe}
                torch_save_atomic(state, args.save)
            yield {"step": step, "s": round(time.perf_counter() - start), "flow_epe": epe}


def main() -> None:
    for row in run(parse_args()):
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
