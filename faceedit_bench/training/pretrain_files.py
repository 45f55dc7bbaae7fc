"""What the pre-training commands share: their datasets, partial files, output files and CLI.

``critic_pretrain`` (the AU head) and ``motion_pretrain`` (the two-stage motion step)
each write one weights-only file that ``train`` starts a net from, and resume a killed
run from ``OUT.partial``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from faceedit_bench.config import ConfigError, add_config_arguments, build_config, call_with_options
from faceedit_bench.io import torch_save_atomic
from faceedit_bench.safe_load import UnsafeOrBrokenFile, load_tensors
from faceedit_bench.training.checkpoint import config_differences

CRITIC_FORMAT = "faceedit-bench-critic/1"
MOTION_FORMAT = "faceedit-bench-motion/1"
# the spec fields a pre-trained motion step must share with the run that loads it
MOTION_FIELDS = ("channels", "n_down", "stem_norm", "motion_res_blocks", "flow_up_skip", "flow", "upsample")


def split_dataset(name: str, dataset_args: dict[str, Any], split: str, resolution: int):
    """The registered dataset ``name``'s ``split`` at ``resolution`` (errors name the option)."""
    from faceedit_bench import plugins

    cls = plugins.datasets.get(name)
    return call_with_options(
        cls, {**dataset_args, "split": split, "resolution": resolution}, "--dataset-args"
    )


def load_partial(partial: Path, config_json: dict[str, Any], what: str) -> dict[str, Any] | None:
    """The state a killed run left in ``partial``, or None; refuses one written with other options."""
    if not partial.is_file():
        return None
    try:
        state = load_tensors(partial, what)
    except UnsafeOrBrokenFile as err:
        raise ConfigError(f"{err}; delete it to start again") from None
    differ = config_differences(state.get("config") or {}, config_json)
    if differ:
        raise ConfigError(
            f"{partial} was written with other options ({'; '.join(differ)}); delete it or use them"
        )
    return state


def resume(
    partial: Path,
    config_json: dict[str, Any],
    key: str,
    net: Any,
    opt: Any,
    rng: Any,
    log: Callable[[str], Any],
) -> tuple[int, float, list[dict[str, Any]]]:
    """Restore ``net`` (saved under ``key``), ``opt`` and ``rng`` from ``partial``; (step, elapsed s, curve)."""
    state = load_partial(partial, config_json, f"partial {key} pre-training")
    if state is None:
        return 0, 0.0, []
    net.load_state_dict(state[key])
    opt.load_state_dict(state["opt"])
    rng.set_state(state["rng"])
    log(f"resumed {partial} at step {state['step']}")
    return int(state["step"]), float(state["elapsed_s"]), list(state["curve"])


def save_partial(
    partial: Path, config_json: dict[str, Any], key: str, net: Any, opt: Any, rng: Any, step: int,
    elapsed: float, curve: list[dict[str, Any]],
) -> None:  # fmt: skip
    """Write what :func:`resume` needs, atomically."""
    state = {"config": config_json, key: net.state_dict(), "opt": opt.state_dict(), "rng": rng.get_state(),
             "step": step, "elapsed_s": elapsed, "curve": curve}  # fmt: skip
    torch_save_atomic(state, partial)


def load_pretrained(path: Path, fmt: str, option: str, what: str) -> dict[str, Any]:
    """A pre-training output file of format ``fmt``, loaded without running code (errors name it)."""
    try:
        state = load_tensors(path, f"option '{option}':")
    except UnsafeOrBrokenFile as err:  # missing, truncated, not a torch file, or holds code
        raise ConfigError(str(err)) from None
    if not isinstance(state, dict) or state.get("format") != fmt:
        raise ConfigError(f"option '{option}': {path} is not a faceedit-bench {what} file ({fmt})")
    return state


def mismatches(path: Path, option: str, have: dict[str, Any], want: dict[str, Any]) -> None:
    """Raise naming ``path`` and every key whose recorded value differs from the run's."""
    differ = [f"{k}={have.get(k)!r} (run: {v!r})" for k, v in want.items() if have.get(k) != v]
    if differ:
        raise ConfigError(f"option '{option}': {path} differs from this run: {', '.join(differ)}")


def cli(
    name: str,
    doc: str,
    config_cls: type,
    run: Callable[[Any], dict[str, Any]],
    summary: Callable[[Any, dict[str, Any]], str],
    argv: list[str] | None = None,
) -> int:
    """Parse ``config_cls`` options, run, print ``summary``; exit status 2 on a ConfigError."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_arguments(parser, config_cls)
    try:
        config = build_config(config_cls, parser.parse_args(argv))
        record = run(config)
    except ConfigError as err:
        print(f"{name}: error: {err}", file=sys.stderr)
        return 2
    print(summary(config, record))
    return 0


def load_critic_init(
    path: Path, resolution: int, channels: int, max_channels: int
) -> dict[str, torch.Tensor]:
    """The critic weights of a pre-training file, checked against the run (errors name the file)."""
    state = load_pretrained(path, CRITIC_FORMAT, "critic_init", "critic")
    want = {"resolution": resolution, "critic_channels": channels, "critic_max_channels": max_channels}
    mismatches(path, "critic_init", state, want)
    return state["critic"]


def load_motion_init(path: Path, spec: Any, resolution: int) -> dict[str, torch.Tensor]:
    """The motion weights of a pre-training file, checked against the run (errors name the file)."""
    state = load_pretrained(path, MOTION_FORMAT, "motion_init", "motion")
    if not spec.use_motion:
        raise ConfigError(
            f"option 'motion_init': {path}: this run's editor has no motion step to load it into"
        )
    want = {"resolution": resolution, **{k: getattr(spec, k) for k in MOTION_FIELDS}}
    mismatches(
        path, "motion_init", {"resolution": state.get("resolution"), **(state.get("spec") or {})}, want
    )
    return state["motion"]
