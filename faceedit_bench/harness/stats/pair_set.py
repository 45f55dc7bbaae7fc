"""Identity of the pairs a run was scored on: two runs compare only when they scored the same pairs.

A protocol name fixes a recipe, not its pairs: the same name with another seed, pair set
or dataset folder gives other pairs, and numbers (or paired differences) across them are
not comparable. The identity is a digest of the sample ids in pair order, read from a
run's ``samples.jsonl`` (or recorded as ``protocol.pair_set`` in ``results.json``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

# protocol fields that decide which pairs are drawn (besides name, version and pair count)
PAIR_FIELDS = ("seed", "split", "dataset", "dataset_args", "pair_recipe", "resolution")


def pair_set_digest(sample_ids: Iterable[str]) -> str:
    """``sha256:<16 hex>`` of the sample ids in pair order."""
    ids = [str(s) for s in sample_ids]
    return "sha256:" + hashlib.sha256(json.dumps(ids).encode()).hexdigest()[:16]


def sample_ids(samples: Sequence[dict[str, Any]]) -> list[str]:
    """The pair order of a run: the sample ids of its first editor's rows."""
    if not samples:
        return []
    first = samples[0]["editor"]
    return [str(s["sample_id"]) for s in samples if s["editor"] == first]


def describe_difference(ids_a: Sequence[str], ids_b: Sequence[str]) -> str | None:
    """None when both runs scored the same pairs, else what differs in words."""
    if list(ids_a) == list(ids_b):
        return None
    a, b = set(ids_a), set(ids_b)
    if a == b:
        return f"the same {len(a)} sample ids in another order"
    only_b = [s for s in ids_b if s not in a]
    only_a = [s for s in ids_a if s not in b]
    parts = [f"{len(ids_a)} and {len(ids_b)} pairs"]
    if only_b:
        parts.append(f"{len(only_b)} sample id(s) only in the second (first: {only_b[0]})")
    if only_a:
        parts.append(f"{len(only_a)} only in the first (first: {only_a[0]})")
    return "; ".join(parts)
