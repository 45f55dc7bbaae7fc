"""Validation numbers of the AU-rig reference networks on held-out identities (``val``, ``test``).

Not part of the weights' validity key (:func:`faceedit_bench.aurig.version.reference_code_hash`
hashes only the sources that determine the weights): an evaluation change can be
recomputed for the shipped weights without retraining them.
"""

from __future__ import annotations

import torch

from faceedit_bench.aurig.dataset import AuRigDataset
from faceedit_bench.aurig.reference.metrics import au_scores, equal_error_rate, pair_scores
from faceedit_bench.aurig.reference.models import AURegressor, IdentityEncoder


@torch.no_grad()
def _run(model: torch.nn.Module, images: torch.Tensor, chunk: int = 256) -> torch.Tensor:
    return torch.cat([model(images[s : s + chunk]) for s in range(0, len(images), chunk)])


def _held_out(split: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    ds = AuRigDataset(split, 64)
    parts = [ds.get_batch(range(s, min(len(ds), s + 256))) for s in range(0, len(ds), 256)]
    labels = torch.tensor([int(i.rsplit("id", 1)[1]) for p in parts for i in p.identity_ids])
    return torch.cat([p.images for p in parts]), torch.cat([p.aus for p in parts]), labels


def evaluate(au: AURegressor, ident: IdentityEncoder) -> tuple[dict[str, object], dict[str, object]]:
    """Numbers on held-out identities: threshold picked at the val EER, then applied to test."""
    au_rec: dict[str, object] = {}
    id_rec: dict[str, object] = {}
    threshold = None
    for split in ("val", "test"):
        images, aus, labels = _held_out(split)
        au_rec[split] = au_scores(_run(au, images), aus)
        same, diff = pair_scores(_run(ident, images), labels)
        eer, thr = equal_error_rate(same, diff)
        threshold = thr if threshold is None else threshold
        id_rec[split] = {
            "eer": eer,
            "eer_threshold": thr,
            "far_at_val_threshold": float((diff >= threshold).double().mean()),
            "frr_at_val_threshold": float((same < threshold).double().mean()),
            "n_same_pairs": len(same),
            "n_diff_pairs": len(diff),
        }
    id_rec["threshold"] = threshold
    return au_rec, id_rec
