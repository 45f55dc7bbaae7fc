import argparse
from dataclasses import dataclass
from pathlib import Path

import pytest

from faceedit_bench.config import ConfigError, add_config_arguments, build_config, option
from faceedit_bench.harness.inputs.config import CompareConfig


@dataclass
class Demo:
    name: str = option(help="required name")
    steps: int = option(10, help="steps")
    rate: float = option(0.5, help="rate")
    tags: list[str] = option([], help="tags")
    out: Path | None = option(None, help="out")
    fast: bool = option(False, help="fast")
    extra: dict[str, object] = option({}, help="KEY=VALUE mapping")

    def validate(self) -> None:
        if self.steps < 1:
            raise ConfigError(f"--steps must be >= 1, got {self.steps}")


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, Demo)
    return parser.parse_args(argv)


def test_flags_build_typed_config():
    cfg = build_config(
        Demo, _parse(["--name", "x", "--steps", "3", "--tags", "a", "b", "--fast", "--out", "d"])
    )
    assert cfg == Demo(name="x", steps=3, tags=["a", "b"], out=Path("d"), fast=True)


def test_yaml_then_flags_override(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("name: y\nsteps: 7\nrate: 0.25\n")
    cfg = build_config(Demo, _parse(["--config", str(path), "--steps", "9"]))
    assert (cfg.name, cfg.steps, cfg.rate) == ("y", 9, 0.25)


def test_mapping_flags_are_text_key_values_that_refine_yaml(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("name: y\nextra: {root: faces, size: 3}\n")
    argv = ["--config", str(path), "--extra", "size=5", "aus=a/b.csv #1", "--extra", "crop=false", "x=a=b"]
    cfg = build_config(Demo, _parse(argv))
    # flag values are the text typed (their receiver types them, see call_with_options)
    assert cfg.extra == {"root": "faces", "size": "5", "aus": "a/b.csv #1", "crop": "false", "x": "a=b"}
    with pytest.raises(ConfigError, match=r"--extra.*KEY=VALUE.*'root'"):
        build_config(Demo, _parse(["--name", "x", "--extra", "root"]))


def test_errors_name_the_file_or_flag(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: y\nstepz: 3\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: unknown option\(s\) stepz"):
        build_config(Demo, _parse(["--config", str(bad)]))
    with pytest.raises(ConfigError, match=r"--steps.*'ten' is not a valid int"):
        build_config(Demo, _parse(["--name", "x", "--steps", "ten"]))
    with pytest.raises(ConfigError, match=r"missing required option.*--name"):
        build_config(Demo, _parse([]))
    with pytest.raises(ConfigError, match="--steps must be >= 1"):
        build_config(Demo, _parse(["--name", "x", "--steps", "0"]))
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml: not valid YAML"):
        build_config(Demo, _parse(["--config", str(broken)]))
    with pytest.raises(ConfigError, match=r"missing\.yaml: cannot read"):
        build_config(Demo, _parse(["--config", str(tmp_path / "missing.yaml")]))


def test_compare_config_validates_names_in_one_place():
    from faceedit_bench.registry import RegistryError

    with pytest.raises(RegistryError, match="unknown protocol"):
        build_config(CompareConfig, protocol="nope")
    with pytest.raises(RegistryError, match="unknown editor"):
        build_config(CompareConfig, editors=["two-stag"])
    with pytest.raises(ValueError, match="EDITOR=PATH"):
        build_config(CompareConfig, checkpoint=["two-stage"])
    with pytest.raises(ConfigError, match="--n-pairs"):
        build_config(CompareConfig, n_pairs=0)
    assert build_config(CompareConfig).protocol == "aurig-demo"
