"""Train an AU-rig AU judge that holds under small perturbations and paint (``aurig-robust``).

    python -m faceedit_bench.aurig.reference.robust_train --out DIR [--resume]

Adversarial training (Madry et al., ICLR 2018: PGD inside the L-inf budget in every step,
random start) on the judges' own ``reference`` split, from the shipped ``aurig-ref``
weights (or from scratch with ``--init none``). Besides the reference networks' own
augmentation, each image may get colour changes that keep the expression: a per-channel
gain and smooth colour blobs anywhere on the face, so paint at the eyes or the mouth is
not read as an AU. Editors never see this split or these weights.

Writes ``DIR/<name>.pt`` and ``DIR/<name>.json`` (atomically, the JSON last) with the
config, command, seconds and the clean validation numbers of :mod:`.evaluate`, plus
``DIR/<name>.state.pt`` every ``--save-every`` steps, so a killed run resumes where it
stopped with ``--resume``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from faceedit_bench.api.aus import AU_MAX
from faceedit_bench.aurig.reference.data import Pool, augment, render_pool
from faceedit_bench.aurig.reference.metrics import au_scores
from faceedit_bench.aurig.reference.probe import probe_record
from faceedit_bench.aurig.reference.weights import build_model, load_weights
from faceedit_bench.aurig.version import reference_code_hash, renderer_hash
from faceedit_bench.io import torch_save_atomic, write_json_atomic
from faceedit_bench.metrics.functional.attack import pgd_away, pgd_toward

log = logging.getLogger(__name__)

ROBUST_FILE = "au_regressor_robust"


@dataclass
class RobustConfig:
    arch: str = "plain"  # "plain" (aurig-ref's AURegressor) or "gn" (models_alt.AURegressorGN)
    init: str = "shipped"  # "shipped" (aurig-ref weights; plain only), "none" (from scratch) or a .pt path
    n_ids: int = 2500
    per_id: int = 8
    pool_seed: int = 5  # a pool other than aurig-ref's (seed 0): same split, new renders
    steps: int = 1800
    batch_size: int = 64
    lr: float = 3e-4
    width: int = 32
    eps: float = 5.0  # training budget, in 1/255 steps of 8-bit levels
    pgd_steps: int = 2
    pgd_step_frac: float = 0.75  # each PGD step moves this share of eps
    clean_weight: float = 0.5  # loss = clean_weight * clean + (1 - clean_weight) * adversarial
    colour_p: float = 0.5  # chance an image gets expression-keeping colour changes
    au_l1: float = 1.0
    au_l2: float = 2.0
    seed: int = 0


def au_loss(pred: torch.Tensor, aus: torch.Tensor, cfg: RobustConfig) -> torch.Tensor:
    """The reference regressor's loss: L1 plus squared error on the 0-1 scale."""
    err = (pred - aus) / AU_MAX
    return (cfg.au_l1 * err.abs() + cfg.au_l2 * err * err).mean()


def colour_changes(x: torch.Tensor, p: float, gen: torch.Generator) -> torch.Tensor:
    """Per-channel gain (+-8%) and 1-3 smooth colour blobs (radius 3-12 px, up to +-0.15) on a share ``p``."""
    n, _, h, w = x.shape
    on = (torch.rand(n, 1, 1, 1, generator=gen) < p).float()
    gain = 1 + 0.16 * (torch.rand(n, 3, 1, 1, generator=gen) - 0.5)
    yy = torch.arange(h).view(1, h, 1).float()
    xx = torch.arange(w).view(1, 1, w).float()
    paint = torch.zeros_like(x)
    for _ in range(3):
        cy, cx = torch.rand(n, 1, 1, generator=gen) * h, torch.rand(n, 1, 1, generator=gen) * w
        r = 3 + 9 * torch.rand(n, 1, 1, generator=gen)
        blob = torch.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
        colour = 0.3 * (torch.rand(n, 3, 1, 1, generator=gen) - 0.5)
        keep = (torch.rand(n, 1, 1, 1, generator=gen) < 0.7).float()
        paint = paint + keep * colour * blob.unsqueeze(1)
    return (x + on * (x * (gain - 1) + paint)).clamp(0, 1)


def _initial(cfg: RobustConfig) -> torch.nn.Module:
    """The starting network: aurig-ref's shipped weights, a saved state dict (a path), or from scratch."""
    model = build_model(cfg.arch, cfg.width)
    if cfg.init == "shipped" and cfg.arch == "plain":
        from faceedit_bench.aurig.reference.backends import AuRigAUDetector

        model.load_state_dict(AuRigAUDetector().model.state_dict())
    elif cfg.init not in ("none", "shipped"):
        load_weights(model, Path(cfg.init))
    return model


def _lr(step: int, cfg: RobustConfig) -> float:
    """Linear warm-up over the first 5%, cosine decay to zero."""
    warm = max(1, cfg.steps // 20)
    if step < warm:
        return cfg.lr * (step + 1) / warm
    return 0.5 * cfg.lr * (1 + math.cos(math.pi * (step - warm) / max(1, cfg.steps - warm)))


@torch.no_grad()
def _predict(model: torch.nn.Module, images: torch.Tensor) -> torch.Tensor:
    model.eval()
    return torch.cat([model(images[s : s + 256]) for s in range(0, len(images), 256)])


def monitor(model: torch.nn.Module, val: tuple[torch.Tensor, torch.Tensor]) -> dict[str, float]:
    """Clean val MAE, and how much of the gap to other faces' AUs a 10-step PGD at 2 and 4/255 closes."""
    images, aus = val
    clean = au_scores(_predict(model, images), aus)
    src, target = images[:64], aus[64:128]
    unchanged = float((_predict(model, src) - target).abs().mean())
    floor = clean["mae_mean"]
    out = {"val_mae": clean["mae_mean"], "val_pearson_min": clean["pearson_min"], "unchanged": unchanged}
    model.eval()
    for e in (2, 4):
        attacked = pgd_toward(model, src, target, e / 255, steps=10)
        reached = float((_predict(model, attacked) - target).abs().mean())
        out[f"gap_closed_{e}"] = (unchanged - reached) / max(unchanged - floor, 1e-6)
    return out


def _val_set(n: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
    from faceedit_bench.aurig.dataset import AuRigDataset

    ds = AuRigDataset("val", 64)
    batch = ds.get_batch(range(min(n, len(ds))))
    return batch.images.float(), batch.aus.float()


def train_robust(
    out: Path, cfg: RobustConfig, resume: bool, save_every: int, command: str, name: str = ROBUST_FILE
) -> dict:
    torch.manual_seed(cfg.seed)
    out.mkdir(parents=True, exist_ok=True)
    state_path = out / f"{name}.state.pt"
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    model = _initial(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
    start, seconds = 0, 0.0
    if resume and state_path.exists():
        state = torch.load(state_path, map_location="cpu", weights_only=True)
        if {**asdict(RobustConfig()), **state["config"]} != asdict(cfg):
            raise ValueError(f"{state_path}: saved with another config; resume with the same options")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        gen.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        start, seconds = int(state["step"]), float(state["seconds"])
        log.info("resumed at step %d", start)
    t0 = time.time() - seconds
    pool: Pool = render_pool(cfg.n_ids, cfg.per_id, cfg.pool_seed)
    val = _val_set()
    eps = cfg.eps / 255
    history: list[dict[str, float]] = []
    for step in range(start, cfg.steps):
        for group in opt.param_groups:
            group["lr"] = _lr(step, cfg)
        idx = torch.randint(0, len(pool), (cfg.batch_size,), generator=gen)
        x, aus, _ = pool.batch(idx)
        x = colour_changes(augment(x, gen), cfg.colour_p, gen)
        if cfg.pgd_steps > 0:
            model.eval()  # the attack sees the judge as it judges (BatchNorm running statistics)
            step_size = eps * cfg.pgd_step_frac
            x_adv = pgd_away(
                model, x, lambda p, y=aus: au_loss(p, y, cfg), eps, cfg.pgd_steps, step_size, gen
            )
            model.train()
            pred = model(torch.cat([x, x_adv]))
            clean, adv = au_loss(pred[: len(x)], aus, cfg), au_loss(pred[len(x) :], aus, cfg)
            loss = cfg.clean_weight * clean + (1 - cfg.clean_weight) * adv
        else:  # clean training with the colour changes: the second, independent judge
            model.train()
            loss = au_loss(model(x), aus, cfg)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        done = step + 1
        if done % 50 == 0:
            log.info("step %d/%d loss %.4f (%.0f s)", done, cfg.steps, loss.item(), time.time() - t0)
        if done % save_every == 0 or done == cfg.steps:
            if done % (save_every * 4) == 0 or done == cfg.steps:
                history.append({"step": done, **monitor(model, val)})
                log.info("monitor %s", json.dumps(history[-1]))
            torch_save_atomic(
                {
                    "config": asdict(cfg),
                    "model": model.state_dict(),
                    "opt": opt.state_dict(),
                    "generator": gen.get_state(),
                    "torch_rng": torch.get_rng_state(),
                    "step": done,
                    "seconds": time.time() - t0,
                },
                state_path,
            )
    model.eval()
    from faceedit_bench.aurig.reference.evaluate import _held_out

    validation = {}
    for split in ("val", "test"):
        images, aus, _ = _held_out(split)
        validation[split] = au_scores(_predict(model, images), aus)
    record = {
        "model": type(model).__name__,
        "config": asdict(cfg),
        "seed": cfg.seed,
        "reference_code": reference_code_hash(),
        "renderer_probe": probe_record(out),
        "renderer_version": renderer_hash(),
        "command": command,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "seconds": round(time.time() - t0, 1),
        "input_size": 64,
        "trained_on": "aurig reference split only",
        "robust": {
            "attack": f"PGD-{cfg.pgd_steps} at +-{cfg.eps:g}/255 (random start) inside every training step",
            "colour": "per-channel gain +-8% and smooth colour blobs on a share of images",
            "monitor": history,
        },
        "validation": validation,
    }
    torch_save_atomic(model.state_dict(), out / f"{name}.pt")
    write_json_atomic(out / f"{name}.json", record)
    return record


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Adversarially train the robust AU-rig AU judge.")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--resume", action="store_true", help="continue from DIR's state file")
    p.add_argument("--name", default=ROBUST_FILE, help="file stem of the weights and record in DIR")
    p.add_argument("--save-every", type=int, default=100)
    p.add_argument("--threads", type=int, default=None)
    defaults = RobustConfig()
    for name, value in asdict(defaults).items():
        p.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if a.threads:
        torch.set_num_threads(a.threads)
    cfg = RobustConfig(**{k: getattr(a, k) for k in asdict(defaults)})
    command = "python -m faceedit_bench.aurig.reference.robust_train " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    record = train_robust(a.out, cfg, a.resume, a.save_every, command, a.name)
    print(json.dumps({k: record["validation"]["val"][k] for k in ("mae_mean", "pearson_min")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
