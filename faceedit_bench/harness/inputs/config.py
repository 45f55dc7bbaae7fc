"""Typed configs of the harness commands (light: no torch import), validated in one place."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faceedit_bench import plugins
from faceedit_bench.config import ConfigError, option
from faceedit_bench.protocols import DEFAULT_PROTOCOL

JUDGE_WORKER_MODES = ("auto", "on", "off")  # see harness.judge_worker.start_workers
# ours: sizes past these are typos, refused before anything is allocated (a 60000 px batch
# of 32 is 1.4 TB; 200 M pairs are GBs of indices before the first image)
MAX_RESOLUTION = 4096
MAX_PAIRS = 1_000_000
MAX_BATCH_BYTES = 8 << 30  # one float32 image batch at one resolution


def check_size(option: str, value: Any, low: int, high: int) -> int:
    """``value`` as an int in ``[low, high]``, or a :class:`ConfigError` naming ``option``."""
    try:
        number = int(str(value))
    except ValueError:
        raise ConfigError(f"{option}={value}: not a whole number") from None
    if not low <= number <= high:
        raise ConfigError(f"{option}={number}: must be between {low:,} and {high:,}")
    return number


def check_batch_memory(resolution: int, batch_size: int, fix: str = "--batch-size") -> None:
    """Refuse a batch of ``batch_size`` RGB float32 images of ``resolution`` px over :data:`MAX_BATCH_BYTES`."""
    need = batch_size * 3 * 4 * resolution * resolution
    if need > MAX_BATCH_BYTES:
        raise ConfigError(
            f"a batch of {batch_size} images of {resolution}x{resolution} px needs {need / 2**30:.1f} GiB; "
            f"lower {fix} or the resolution"
        )


def check_protocol_size(protocol: Any, where: str) -> None:
    """A protocol's ``n_pairs`` and ``resolution`` within bounds (``where``: the option or file it came from)."""
    check_size(f"{where} n_pairs", protocol.n_pairs, 1, MAX_PAIRS)
    check_size(f"{where} resolution", protocol.resolution, 8, MAX_RESOLUTION)


def parse_checkpoints(entries: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``["two-stage=path.pt", ...]`` -> ``{"two-stage": "path.pt"}``."""
    out: dict[str, str] = {}
    for entry in entries:
        name, sep, path = entry.partition("=")
        if not sep or not name or not path:
            raise ValueError(f"--checkpoint {entry!r}: expected EDITOR=PATH")
        plugins.editors.canonical(name)
        out[name] = path
    return out


@dataclass
class RunOptions:
    """Options shared by every command that evaluates (compare, evaluate)."""

    protocol: str = option(
        DEFAULT_PROTOCOL, help="registered protocol name (see `faceedit-bench ls`) or a protocol YAML file"
    )
    dataset: str | None = option(
        None, help="evaluate on your data: a registered dataset (e.g. image-folder) instead of --protocol"
    )
    dataset_args: dict[str, Any] = option(
        {},
        help="--dataset arguments, e.g. root=DIR aus=aus.csv [n_pairs=200 resolution=64 split=all name=NAME]",
    )
    out: Path | None = option(
        None,
        help="output folder (default: runs/<protocol> for compare, runs/evaluate-<protocol>-<editor> for evaluate)",
    )
    overwrite: bool = option(
        False,
        help="replace the run already in --out when it is another run (other command, protocol, editors "
        "or options): first remove every file it wrote. Without it such a folder is refused; the same "
        "run needs no flag (a killed run resumes)",
    )
    n_pairs: int | None = option(
        None,
        help="evaluate only the first N pairs (recorded as a subset; not comparable to the full protocol)",
    )
    batch_size: int | None = option(None, help="evaluation batch size (default: the protocol's)")
    device: str = option("auto", help="cpu, cuda, cuda:N or auto")
    au_detector: str | None = option(None, help="force an AU detector backend")
    au_detector_2: str | None = option(None, help="force the second, independent AU judge")
    identity: str | None = option(None, help="force an identity backend")
    fid_features: str | None = option(None, help="force a feature extractor for FID/KID")
    lpips: str | None = option(None, help="force an LPIPS backend")
    figures: bool = option(True, help="write figures (matplotlib) after the tables")
    html: bool = option(True, help="write report.html (self-contained: tables, figures, per-sample browser)")
    progress: bool = option(True, help="show progress bars")
    judge_audit: bool = option(
        True,
        help="audit each AU judge: the AU MAE a small attack on the unedited sources reaches "
        "(results.json judge_audit, a note under the tables; see `faceedit-bench audit`)",
    )
    judge_worker: str = option(
        "auto",
        help="run the slow single-threaded judges (dlib identity, MediaPipe AUs; LPIPS joins them) in a "
        "worker process beside the pass: auto (when this process has 2+ CPUs), on, off; AU and identity "
        "values are the same",
    )

    def validate(self) -> None:
        if self.dataset:
            plugins.datasets.canonical(self.dataset)
        elif self.protocol.endswith((".yaml", ".yml")):
            if not Path(self.protocol).is_file():
                raise ConfigError(f"--protocol {self.protocol}: no such protocol file")
        else:
            plugins.protocols.canonical(self.protocol)
        if self.dataset_args and not self.dataset:
            raise ConfigError("--dataset-args needs --dataset")
        if "n_pairs" in self.dataset_args:
            check_size("--dataset-args n_pairs", self.dataset_args["n_pairs"], 1, MAX_PAIRS)
        if "resolution" in self.dataset_args:
            check_size("--dataset-args resolution", self.dataset_args["resolution"], 8, MAX_RESOLUTION)
        if self.n_pairs is not None and self.n_pairs < 1:
            raise ConfigError(f"--n-pairs must be >= 1, got {self.n_pairs}")
        if self.batch_size is not None and self.batch_size < 1:
            raise ConfigError(f"--batch-size must be >= 1, got {self.batch_size}")
        if self.judge_worker not in JUDGE_WORKER_MODES:
            raise ConfigError(
                f"--judge-worker must be one of {', '.join(JUDGE_WORKER_MODES)}, got {self.judge_worker!r}"
            )
        if self.device not in ("auto", "cpu") and not self.device.startswith("cuda"):
            raise ConfigError(f"--device must be cpu, cuda[:N] or auto, got {self.device!r}")
        for kind, name in self.backend_overrides().items():
            plugins.BACKEND_REGISTRIES[kind].canonical(name)

    def backend_overrides(self) -> dict[str, str]:
        kinds = ("au_detector", "au_detector_2", "identity", "fid_features", "lpips")
        return {k: getattr(self, k) for k in kinds if getattr(self, k)}


@dataclass
class CompareConfig(RunOptions):
    editors: list[str] = option(
        [], help="editors to compare: registered names or [NAME=]module:attr (default: the protocol's list)"
    )
    checkpoint: list[str] = option(
        [],
        help="EDITOR=PATH checkpoint overrides; EDITOR=A.pt,B.pt,C.pt (or a quoted glob) evaluates "
        "one replicate per checkpoint (training seeds) and pools them in the paired tests",
    )
    reference: str | None = option(
        None, help="editor every other one is compared against (default: the protocol's first baseline)"
    )
    external: list[str] = option(
        [],
        help="NAME=PAIRS.csv: another system's edits of this protocol's pairs (see `faceedit-bench export`)",
    )
    allow_mixed_supervision: bool = option(
        False,
        help="compare competing editors trained under different supervision regimes (paired / unpaired: "
        "same-person pairs seen or not); without it such a run is refused, with it the tables say so",
    )

    def validate(self) -> None:
        from faceedit_bench.harness.inputs.names import parse_externals
        from faceedit_bench.user_editors import register_spec

        super().validate()
        for name in self.editors:
            plugins.editors.canonical(register_spec(name))
        parse_checkpoints(self.checkpoint)
        for name, path in parse_externals(self.external).items():
            if not path.is_file():
                raise ConfigError(f"--external {name}={path}: no such file")


@dataclass
class EvaluateConfig(RunOptions):
    editor: str | None = option(None, help="a registered editor to evaluate")
    checkpoint: Path | None = option(None, help="checkpoint of --editor (default: its shipped one)")
    manifest: Path | None = option(
        None, help="CSV of edits made by another system: source, edited, AU01..AU45[, target][, id]"
    )
    name: str = option("external", help="label of the --manifest system in results")
    au_scale: float | None = option(
        None,
        help="scale of a free-form manifest's AU columns: 5 (0-5, OpenFace) or 1 (0-1, py-feat Fex); default 5",
    )

    def validate(self) -> None:
        super().validate()
        if (self.editor is None) == (self.manifest is None):
            raise ConfigError("give exactly one of --editor or --manifest")
        if self.editor is not None:
            from faceedit_bench.user_editors import register_spec

            plugins.editors.canonical(register_spec(self.editor))
        if self.au_scale is not None and self.au_scale not in (1.0, 5.0):
            raise ConfigError(f"--au-scale must be 1 or 5, got {self.au_scale:g}")
        if self.checkpoint is not None and self.editor is None:
            raise ConfigError("--checkpoint needs --editor")
        if self.manifest is not None and not Path(self.manifest).is_file():
            raise ConfigError(f"--manifest {self.manifest}: no such file")
        if self.manifest is not None:
            from faceedit_bench.harness.inputs.names import check_external_name

            check_external_name(self.name, f"--name {self.name}")
