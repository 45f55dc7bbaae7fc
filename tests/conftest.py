"""Shared fixtures. ``faceedit_bench.testing`` registers the tiny dataset/protocol."""

from __future__ import annotations

import os

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch.set_num_threads(1)

import faceedit_bench.testing  # noqa: E402, F401  (registers "tiny")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Caches go to a per-session temp folder unless a test sets its own."""
    if "FACEEDIT_BENCH_CACHE" not in os.environ:
        monkeypatch.setenv("FACEEDIT_BENCH_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
