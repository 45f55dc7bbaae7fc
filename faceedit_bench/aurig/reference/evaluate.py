"""Validation numbers of the AU-rig reference networks on held-out identities (``val``, ``test``).

Not part of the weights' validity key (:func:`faceedit_bench.aurig.version.reference_code_hash`
hashes only the sources that determine the weights): an evaluation change is
re-measured for existing weights instead of retraining them::

    python -m faceedit_bench.aurig.reference.evaluate [--weights DIR] [--dry-run]

recomputes the identity encoder's verification block (genuine and impostor score
statistics on ``val`` and ``test``, the threshold by
:data:`~faceedit_bench.aurig.reference.metrics.THRESHOLD_RULE`, its false-accept and
false-reject rates) from the weights in DIR (default: the shipped ones) on the same
held-out identities training evaluates, and rewrites DIR's ``identity_encoder.json``
atomically. Deterministic; it renders the 4,000 held-out faces (12 s to 5 min on the
2-core machine, depending on what else runs).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import torch

from faceedit_bench.aurig.dataset import AuRigDataset
from faceedit_bench.aurig.reference.metrics import (
    THRESHOLD_RULE,
    au_scores,
    equal_error_rate,
    error_rates,
    pair_scores,
    score_summary,
    verification_threshold,
)
from faceedit_bench.aurig.reference.models import AURegressor, IdentityEncoder
from faceedit_bench.aurig.reference.weights import (
    IDENTITY_WEIGHTS,
    WEIGHTS_DIR,
    architecture,
    checked_record,
    load_weights,
)
from faceedit_bench.io import write_json_atomic

SPLITS = ("val", "test")  # the threshold is chosen on the first, then applied to both
Scores = dict[str, tuple[torch.Tensor, torch.Tensor]]  # split -> (genuine, impostor) cosines


@torch.no_grad()
def _run(model: torch.nn.Module, images: torch.Tensor, chunk: int = 256) -> torch.Tensor:
    return torch.cat([model(images[s : s + chunk]) for s in range(0, len(images), chunk)])


def _held_out(split: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    ds = AuRigDataset(split, 64)
    parts = [ds.get_batch(range(s, min(len(ds), s + 256))) for s in range(0, len(ds), 256)]
    labels = torch.tensor([int(i.rsplit("id", 1)[1]) for p in parts for i in p.identity_ids])
    return torch.cat([p.images for p in parts]), torch.cat([p.aus for p in parts]), labels


def identity_record(scores: Scores) -> dict[str, object]:
    """Per split: EER, score statistics and error rates at the threshold chosen on ``val``."""
    threshold, how = verification_threshold(*scores[SPLITS[0]])
    rec: dict[str, object] = {}
    for split, (same, diff) in scores.items():
        eer, eer_thr = equal_error_rate(same, diff)
        rates = error_rates(same, diff, threshold)
        rec[split] = {
            "eer": eer,
            "eer_threshold": eer_thr,
            "far_at_val_threshold": rates["far"],
            "frr_at_val_threshold": rates["frr"],
            "n_same_pairs": len(same),
            "n_diff_pairs": len(diff),
            "genuine": score_summary(same),
            "impostor": score_summary(diff),
        }
    same, diff = scores[SPLITS[0]]
    rec["threshold"] = threshold
    rec["threshold_rule"] = {
        "rule": THRESHOLD_RULE,
        "applied": how,
        "chosen_on": SPLITS[0],
        "lowest_genuine": float(same.min()),
        "highest_impostor": float(diff.max()),
    }
    return rec


def evaluate(au: AURegressor, ident: IdentityEncoder) -> tuple[dict[str, object], dict[str, object]]:
    """AU regressor and identity encoder numbers on the held-out splits (:func:`identity_record`)."""
    au_rec: dict[str, object] = {}
    scores: Scores = {}
    for split in SPLITS:
        images, aus, labels = _held_out(split)
        au_rec[split] = au_scores(_run(au, images), aus)
        scores[split] = pair_scores(_run(ident, images), labels)
    return au_rec, identity_record(scores)


def identity_scores(ident: IdentityEncoder) -> Scores:
    """Genuine and impostor cosines of ``ident`` on each held-out split."""
    out: Scores = {}
    for split in SPLITS:
        images, _, labels = _held_out(split)
        out[split] = pair_scores(_run(ident, images), labels)
    return out


def recompute_identity_record(
    folder: str | Path | None = None, command: str | None = None, write: bool = True
) -> dict[str, Any]:
    """Re-measure the identity encoder in ``folder`` (default: shipped) and update its JSON's verification block.

    Refuses weights that do not fit the current code (they would be retrained on
    load, so numbers measured on them would describe a judge nobody uses). Only
    ``validation``'s identity numbers, ``threshold`` and ``validation.recomputed_by``
    change; the file is replaced atomically. Returns the new record.
    """
    folder = Path(folder) if folder is not None else WEIGHTS_DIR
    name = IDENTITY_WEIGHTS
    record = checked_record(folder, name)
    arch = architecture(record)
    model = load_weights(IdentityEncoder(arch["width"], arch["embed_dim"]), folder / f"{name}.pt")
    block = identity_record(identity_scores(model))
    record["validation"] = {
        **record.get("validation", {}),
        **block,
        "recomputed_by": command or f"{__name__}.recompute_identity_record({str(folder)!r})",
    }
    record["threshold"] = block["threshold"]
    if write:
        write_json_atomic(folder / f"{name}.json", record)
    return record


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description="Recompute the AU-rig identity encoder's verification threshold block from its weights."
    )
    p.add_argument("--weights", type=Path, default=None, help="weights folder (default: the shipped weights)")
    p.add_argument("--dry-run", action="store_true", help="print the new block, do not rewrite the record")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    command = "python -m faceedit_bench.aurig.reference.evaluate " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    record = recompute_identity_record(a.weights, command.strip(), write=not a.dry_run)
    val = record["validation"]
    summary = {
        "threshold": record["threshold"],
        "threshold_rule": val["threshold_rule"],
        **{
            split: {k: val[split][k] for k in ("far_at_val_threshold", "frr_at_val_threshold")}
            for split in SPLITS
        },
    }
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
