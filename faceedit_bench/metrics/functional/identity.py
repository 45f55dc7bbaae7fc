"""Cosine similarity of identity embeddings and the verification decision."""

from __future__ import annotations

import torch


def cosine_rows(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Row-wise cosine similarity ``(N,)`` float64; NaN where either row has a NaN (no face)."""
    if a.dim() != 2 or a.shape != b.shape:
        raise ValueError(
            f"identity: expected two (N, D) embeddings of one shape, got {tuple(a.shape)} and {tuple(b.shape)}"
        )
    a, b = a.to(torch.float64), b.to(torch.float64)
    denom = a.norm(dim=1) * b.norm(dim=1)
    cos = (a * b).sum(dim=1) / denom.clamp_min(1e-12)
    missing = torch.isnan(a).any(dim=1) | torch.isnan(b).any(dim=1)
    return torch.where(missing, torch.full_like(cos, float("nan")), cos)


def verify(cos: torch.Tensor, threshold: float) -> torch.Tensor:
    """1.0 where ``cos >= threshold``, else 0.0; NaN stays NaN."""
    decision = (cos >= threshold).to(torch.float64)
    return torch.where(torch.isnan(cos), cos, decision)


def missed_faces(source: torch.Tensor, edited: torch.Tensor) -> torch.Tensor:
    """``(N,)`` bool on the CPU: the judge embedded the source's face but found none in the edit (NaN row)."""
    return torch.isnan(edited).any(dim=1).cpu() & ~torch.isnan(source).any(dim=1).cpu()
