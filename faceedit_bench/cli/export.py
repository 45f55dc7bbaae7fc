"""``faceedit-bench export --protocol P --out DIR``: a protocol's edit requests for any other system."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from faceedit_bench.config import ConfigError, add_config_arguments, build_config, option
from faceedit_bench.protocols import DEFAULT_PROTOCOL

EPILOG = """\
writes DIR/sources/*.png (the sources exactly as every editor gets them), DIR/pairs.csv
(id, source, edited, identity, AU01 ... AU45 target intensities), DIR/protocol.json and
DIR/README.txt. Write your system's edits to the `edited` paths, then:
  faceedit-bench compare --protocol P --editors identity two-stage ganimation --external mine=DIR/pairs.csv
examples:
  faceedit-bench export --protocol aurig-demo --out exports/aurig-demo
  faceedit-bench export --protocol video-reenact --out exports/video --au-scale 1   # AUs as 0-1 (py-feat)
  faceedit-bench export --dataset image-folder --dataset-args root=FACES_DIR --out exports/faces
"""


@dataclasses.dataclass
class ExportConfig:
    """Options of ``faceedit-bench export``."""

    out: Path = option(help="new (or empty) folder to write")
    protocol: str = option(DEFAULT_PROTOCOL, help="registered protocol name or a protocol YAML file")
    dataset: str | None = option(
        None, help="export pairs of your data: a registered dataset (e.g. image-folder)"
    )
    dataset_args: dict[str, Any] = option(
        {}, help="--dataset arguments, e.g. root=DIR [n_pairs=200 name=NAME]"
    )
    n_pairs: int | None = option(None, help="only the first N pairs (default: all)")
    au_scale: float = option(5.0, help="write AUs as 0-5 (5) or 0-1 (1)")
    overwrite: bool = option(False, help="write into a non-empty --out")
    progress: bool = option(True, help="show a progress bar")

    def validate(self) -> None:
        if self.au_scale not in (1.0, 5.0):
            raise ConfigError(f"--au-scale must be 1 or 5, got {self.au_scale:g}")
        if self.n_pairs is not None and self.n_pairs < 1:
            raise ConfigError(f"--n-pairs must be >= 1, got {self.n_pairs}")
        if self.dataset_args and not self.dataset:
            raise ConfigError("--dataset-args needs --dataset")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "export",
        help="export a protocol's source images and target AUs so another system can edit them",
        description="Export a protocol's edit requests (source images as the judges see them, target "
        "AUs) and a pairs.csv to fill in with another system's edits.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config_arguments(p, ExportConfig)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from faceedit_bench.harness.inputs.config import check_protocol_size
    from faceedit_bench.harness.inputs.export import export_protocol
    from faceedit_bench.protocols import resolve_protocol

    config = build_config(ExportConfig, args)
    protocol = resolve_protocol(config.protocol, config.dataset, config.dataset_args)
    check_protocol_size(protocol, "--dataset-args" if config.dataset else f"--protocol {config.protocol}")
    try:
        summary = export_protocol(
            protocol,
            config.out,
            n_pairs=config.n_pairs,
            au_scale=config.au_scale,
            overwrite=config.overwrite,
            progress=config.progress,
        )
    except FileExistsError as err:
        raise ValueError(str(err)) from None
    print(summary.line())
    return 0
