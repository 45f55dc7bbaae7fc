"""The supervision regime of every editor in a run, and the refusal to compare regimes unasked.

A paired comparison is fair only when both sides had the same training signals: a two-stage
editor whose motion step learned from same-person pairs against a baseline that never saw a
pair measures the pairs as much as the architecture. ``compare`` therefore refuses competing
editors of different regimes (:mod:`faceedit_bench.editors.supervision`) unless
``--allow-mixed-supervision`` is given; the run then records and every table says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from faceedit_bench.api.editor import Editor
from faceedit_bench.config import ConfigError
from faceedit_bench.editors.supervision import describe_mixed, mixed_regimes
from faceedit_bench.harness.inputs.editors import editor_group
from faceedit_bench.harness.inputs.names import base_name
from faceedit_bench.harness.stats.statistics import COMPETING

FLAG = "--allow-mixed-supervision"


def regime_of(name: str, editor: Editor) -> str:
    """``paired``/``unpaired`` for a trained editor, ``none``/``ground truth`` for the references,
    ``unknown`` for another system's edits or a user's editor that does not say."""
    described = editor.describe()
    if isinstance(described, Mapping) and described.get("supervision"):
        return str(described["supervision"])
    if editor_group(base_name(name)) == "reference":
        return "ground truth" if getattr(editor, "needs_ground_truth", False) else "none"
    return "unknown"


def supervision_block(editors: Mapping[str, Editor], allow_mixed: bool) -> dict[str, Any]:
    """``results.json["supervision"]``; raises :class:`ConfigError` (exit 2) for mixed regimes unasked."""
    regimes = {name: regime_of(name, editor) for name, editor in editors.items()}
    competing = {n: r for n, r in regimes.items() if editor_group(base_name(n)) in COMPETING}
    mixed = mixed_regimes(competing)
    if mixed and not allow_mixed:
        raise ConfigError(
            f"competing editors were trained under different supervision regimes ({describe_mixed(mixed)}): "
            "a paired comparison between them measures the training signals as much as the editors. "
            f"Compare editors of one regime, or pass {FLAG} to compare them anyway (the tables then say so)"
        )
    return {
        "regimes": regimes,
        "mixed": bool(mixed),
        **({"mixed_allowed": describe_mixed(mixed)} if mixed else {}),
    }
