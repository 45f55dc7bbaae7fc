"""Guard: a judge trained for one kind of face must not silently judge another.

A backend registered with ``domain="aurig"`` (the AU-rig reference networks) knows only
AU-rig's synthetic faces; its numbers on real photographs mean nothing. A run whose
data is not of that domain (its dataset registered without the same ``domain``, or a
free-form manifest) is refused when the protocol picked that judge, and warned about
loudly, with the warning recorded in results, when the user forced it by name.
"""

from __future__ import annotations

from faceedit_bench import plugins
from faceedit_bench.api.protocol import Protocol
from faceedit_bench.config import ConfigError
from faceedit_bench.harness.inputs.backends import BackendChoice


def dataset_domain(protocol: Protocol) -> str | None:
    """The registered ``domain`` of the protocol's dataset (None: real or unknown images)."""
    if protocol.dataset not in plugins.datasets:
        return None
    return plugins.datasets.meta(protocol.dataset).get("domain")


def check_judge_domains(
    protocol: Protocol, choices: dict[str, BackendChoice], overrides: dict[str, str]
) -> dict[str, str]:
    """Raise for a domain-bound judge on other data; return {kind: warning} for forced ones."""
    data = dataset_domain(protocol)
    warnings: dict[str, str] = {}
    for kind, choice in choices.items():
        if choice.name is None:
            continue
        judge = plugins.BACKEND_REGISTRIES[kind].meta(choice.name).get("domain")
        if judge is None or judge == data:
            continue
        what = f"{protocol.dataset} data" + (f" ({data})" if data else "")
        message = f"{kind} backend {choice.name!r} only knows {judge} faces, but this run scores {what}"
        if kind in overrides:
            warnings[kind] = message + "; forced by the user, its numbers are not meaningful"
            print(f"WARNING: {warnings[kind]}")
            continue
        flag = "--" + kind.replace("_", "-")
        raise ConfigError(
            f"{message}. Score real faces with a real-face protocol's judges (e.g. --protocol video-reenact, "
            f"or {flag} NAME, see `faceedit-bench ls backends`), or export an AU-rig protocol with "
            "`faceedit-bench export` and score its pairs.csv"
        )
    return warnings
