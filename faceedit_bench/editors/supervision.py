"""Supervision regimes: which training signals an editor saw, so a comparison can be fair by construction.

- ``unpaired``: the setting of Athar et al. (FG 2020) and GANimation: no same-person image pairs
  anywhere; a motion step is learned end to end from the AU and adversarial losses.
- ``paired``: same-person pairs were used: a motion step pre-trained on them (``motion_init``,
  :mod:`faceedit_bench.training.motion_pretrain`), the paired loss (``lambda_pair > 0``), or a
  fine-tune that started from a checkpoint trained with pairs (``init``).

Reference editors are ``none`` (the identity) and ``ground truth`` (the oracle); another system's
edits are ``unknown``. Only ``unpaired`` and ``paired`` take part in the mixed-regime check of
``compare`` (:func:`mixed_regimes`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

TRAINED_REGIMES = ("unpaired", "paired")
PAIRED_WHY = {
    "motion_init": "motion step pre-trained on same-person pairs",
    "lambda_pair": "paired loss on same-person pairs",
    "init": "fine-tuned from a checkpoint trained with pairs",
}


def regime_of_config(
    config: Mapping[str, Any] | None, init_regime: Callable[[Any], str | None] | None = None
) -> str:
    """``paired`` or ``unpaired`` for a training config (``unknown`` when there is none).

    ``init_regime`` gives the regime of the checkpoint an ``init`` entry names (None: unknown).
    """
    if not config:
        return "unknown"
    if config.get("supervision") in TRAINED_REGIMES:  # recorded at training time
        return str(config["supervision"])
    return "paired" if paired_signals(config, init_regime) else "unpaired"


def paired_signals(
    config: Mapping[str, Any], init_regime: Callable[[Any], str | None] | None = None
) -> list[str]:
    """Which of :data:`PAIRED_WHY`'s signals ``config`` used (empty: none, the run is unpaired)."""
    found = []
    if config.get("motion_init"):
        found.append("motion_init")
    if float((config.get("loss_weights") or {}).get("lambda_pair", 0.0) or 0.0) > 0:
        found.append("lambda_pair")
    init = config.get("init")
    if init and init_regime is not None and init_regime(init) == "paired":
        found.append("init")
    return found


def record_regime(record: Path) -> str | None:
    """The regime of a checkpoint from its JSON record (``<stem>.json`` beside it), or None
    (its own ``init`` is not followed: shipped fine-tunes record their start as ``supervision``)."""
    if not record.is_file():
        return None
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    if data.get("supervision") in TRAINED_REGIMES:
        return str(data["supervision"])
    return regime_of_config(data["config"]) if data.get("config") else None


def mixed_regimes(regimes: Mapping[str, str]) -> dict[str, list[str]]:
    """``regime -> editors`` of the trained regimes present, when there are two or more; else ``{}``."""
    by_regime: dict[str, list[str]] = {}
    for editor, regime in regimes.items():
        if regime in TRAINED_REGIMES:
            by_regime.setdefault(regime, []).append(editor)
    return by_regime if len(by_regime) > 1 else {}


def describe_mixed(by_regime: Mapping[str, list[str]]) -> str:
    """``paired: two-stage, warp-only; unpaired: ganimation, texture-only``."""
    return "; ".join(f"{regime}: {', '.join(editors)}" for regime, editors in sorted(by_regime.items()))
