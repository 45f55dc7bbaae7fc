"""Train the AU-rig reference networks on the ``reference`` split and record how well they do.

    python -m faceedit_bench.aurig.reference.train --out DIR

writes ``au_regressor.pt/.json``, ``identity_encoder.pt/.json`` and the renderer
probe ``renderer_probe.pt`` into DIR (each file atomically, the JSON last). The
JSON records config, seed, code version (reference sources + probe), command and
the validation numbers measured on held-out identities (``val`` split; ``test``
too, for information; :mod:`.evaluate`). Takes about half an hour on 2 CPU cores (1 thread).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from faceedit_bench.api.aus import AU_MAX
from faceedit_bench.aurig.reference.data import Pool, augment, render_pool
from faceedit_bench.aurig.reference.evaluate import evaluate
from faceedit_bench.aurig.reference.models import AURegressor, CosFaceLoss, IdentityEncoder
from faceedit_bench.aurig.reference.probe import current_probe, probe_record, reference_key
from faceedit_bench.aurig.version import reference_code_hash, renderer_hash
from faceedit_bench.io import torch_save_atomic, write_json_atomic

log = logging.getLogger(__name__)

AU_FILE, ID_FILE = "au_regressor", "identity_encoder"


@dataclass
class TrainConfig:
    n_ids: int = 2500  # reference identities in the training pool
    per_id: int = 8  # expressions per identity
    epochs_au: int = 15
    epochs_id: int = 3
    batch_size: int = 64
    lr: float = 3e-3
    width: int = 32
    embed_dim: int = 64
    p_independent: float = 0.3  # chance an AU is on in the independent half of the pool
    au_l1: float = 1.0  # AU loss = au_l1 * |e| + au_l2 * e^2, e = error / 5 (MAE and Pearson r both count)
    au_l2: float = 2.0
    seed: int = 0


def _schedule(opt: torch.optim.Optimizer, steps: int) -> torch.optim.lr_scheduler.LRScheduler:
    return torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=opt.param_groups[0]["lr"], total_steps=steps, pct_start=0.15
    )


def _epochs(pool: Pool, cfg: TrainConfig, epochs: int, gen: torch.Generator):
    for _ in range(epochs):
        order = torch.randperm(len(pool), generator=gen)
        for s in range(0, len(order) - cfg.batch_size + 1, cfg.batch_size):
            x, aus, labels = pool.batch(order[s : s + cfg.batch_size])
            yield augment(x, gen), aus, labels


def au_loss(pred: torch.Tensor, aus: torch.Tensor, cfg: TrainConfig) -> torch.Tensor:
    """L1 (for the MAE) plus squared error (for large misses, which cost Pearson r) on the 0-1 scale."""
    err = (pred - aus) / AU_MAX
    return (cfg.au_l1 * err.abs() + cfg.au_l2 * err * err).mean()


def train_au(pool: Pool, cfg: TrainConfig) -> AURegressor:
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    model = AURegressor(cfg.width)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
    steps = cfg.epochs_au * (len(pool) // cfg.batch_size)
    sched = _schedule(opt, steps)
    model.train()
    for step, (x, aus, _) in enumerate(_epochs(pool, cfg, cfg.epochs_au, gen)):
        loss = au_loss(model(x), aus, cfg)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % 200 == 0:
            log.info("au step %d/%d loss %.4f", step, steps, loss.item())
    return model.eval()


def train_identity(pool: Pool, cfg: TrainConfig) -> IdentityEncoder:
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed + 2)
    model = IdentityEncoder(cfg.width, cfg.embed_dim)
    head = CosFaceLoss(cfg.embed_dim, cfg.n_ids)
    params = [*model.parameters(), *head.parameters()]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=1e-4)
    steps = cfg.epochs_id * (len(pool) // cfg.batch_size)
    sched = _schedule(opt, steps)
    model.train()
    for step, (x, _, labels) in enumerate(_epochs(pool, cfg, cfg.epochs_id, gen)):
        loss = head(model(x), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % 200 == 0:
            log.info("identity step %d/%d loss %.4f", step, steps, loss.item())
    return model.eval()


def train_all(
    out: str | Path, cfg: TrainConfig | None = None, command: str | None = None
) -> dict[str, object]:
    """Train both networks into ``out``; returns the two JSON records."""
    cfg = cfg or TrainConfig()
    out = Path(out)
    t0 = time.time()
    current_probe()  # rendered by the same code as the pool, before anything can change
    log.info("rendering the reference pool: %d identities x %d expressions", cfg.n_ids, cfg.per_id)
    pool = render_pool(cfg.n_ids, cfg.per_id, cfg.seed, cfg.p_independent)
    t_pool = time.time() - t0
    au = train_au(pool, cfg)
    t_au = time.time() - t0
    ident = train_identity(pool, cfg)
    t_id = time.time() - t0
    au_metrics, id_metrics = evaluate(au, ident)
    out.mkdir(parents=True, exist_ok=True)
    common = {
        "config": asdict(cfg),
        "seed": cfg.seed,
        "code_version": reference_key(),
        "reference_code": reference_code_hash(),
        "renderer_probe": probe_record(out),
        "renderer_version": renderer_hash(),
        "command": command or "python -m faceedit_bench.aurig.reference.train --out " + str(out),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "seconds": {
            "pool": round(t_pool, 1),
            "au": round(t_au - t_pool, 1),
            "identity": round(t_id - t_au, 1),
        },
        "input_size": 64,
        "trained_on": "aurig reference split only",
    }
    records = {
        AU_FILE: {"model": "AURegressor", **common, "validation": au_metrics},
        ID_FILE: {
            "model": "IdentityEncoder",
            **common,
            "validation": id_metrics,
            "threshold": id_metrics["threshold"],
        },
    }
    for name, model in ((AU_FILE, au), (ID_FILE, ident)):
        torch_save_atomic(model.state_dict(), out / f"{name}.pt")
        write_json_atomic(out / f"{name}.json", records[name])
    return records


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Train the AU-rig reference AU regressor and identity encoder.")
    p.add_argument("--out", required=True, help="output folder for the .pt weights and .json records")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    defaults = TrainConfig()
    for field, value in asdict(defaults).items():
        p.add_argument(f"--{field.replace('_', '-')}", type=type(value), default=value)
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if a.threads:
        torch.set_num_threads(a.threads)
    cfg = TrainConfig(**{f: getattr(a, f) for f in asdict(defaults)})
    command = "python -m faceedit_bench.aurig.reference.train " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    records = train_all(a.out, cfg, command)
    summary = {
        "au_val": {
            k: records[AU_FILE]["validation"]["val"][k] for k in ("mae_mean", "mae_max", "pearson_min")
        },
        "identity_val_eer": records[ID_FILE]["validation"]["val"]["eer"],
        "identity_test_eer": records[ID_FILE]["validation"]["test"]["eer"],
        "seconds": records[AU_FILE]["seconds"],
    }
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
