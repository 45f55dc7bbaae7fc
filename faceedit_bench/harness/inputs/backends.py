"""Choose judge backends for a protocol: first usable in its preference list.

The preference lists in protocols encode DESIGN.md's order (user path > standard
cache > offline backend shipped on PyPI); each backend's ``availability()`` reports
which of those it found. The choice and its reason are recorded in results.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from faceedit_bench import plugins
from faceedit_bench.api.backends import Availability
from faceedit_bench.api.protocol import Protocol
from faceedit_bench.api.step import BackendSet


@dataclass
class BackendChoice:
    kind: str
    name: str | None
    label: str | None
    reason: str
    rejected: dict[str, str] = field(default_factory=dict)


def backend_availability(kind: str, name: str) -> Availability:
    """Whether backend ``name`` of ``kind`` can run here (import failures count as no)."""
    try:
        cls = plugins.BACKEND_REGISTRIES[kind].get(name)
        return cls.availability()
    except Exception as err:  # an uninstalled optional dependency must not break `ls`
        return Availability(False, f"cannot load: {type(err).__name__}: {err}")


def choose_backends(
    protocol: Protocol, overrides: dict[str, str] | None = None, device: str = "cpu"
) -> tuple[BackendSet, dict[str, BackendChoice]]:
    """Instantiate the first usable backend per kind (``overrides`` force a name)."""
    overrides = overrides or {}
    chosen = BackendSet()
    report: dict[str, BackendChoice] = {}
    for kind, preferences in protocol.backends.items():
        candidates = (overrides[kind],) if kind in overrides else preferences
        rejected: dict[str, str] = {}
        for name in candidates:
            registry = plugins.BACKEND_REGISTRIES[kind]
            registry.canonical(name)  # unknown names fail loudly with the known list
            avail = backend_availability(kind, name)
            if not avail.usable:
                rejected[name] = avail.reason
                continue
            backend = registry.get(name)().to(device)
            setattr(chosen, kind, backend)
            report[kind] = BackendChoice(kind, name, backend.label, avail.reason, rejected)
            break
        else:
            if kind in overrides:
                raise RuntimeError(
                    f"{kind} backend {overrides[kind]!r} is not usable here: {rejected[overrides[kind]]}"
                )
            report[kind] = BackendChoice(kind, None, None, "none usable", rejected)
    return chosen, report
