"""Typed dataclass configs built from CLI flags and/or a YAML file, validated in one place.

A config is a dataclass whose fields carry ``help`` in their metadata (use
:func:`option`). :func:`add_config_arguments` turns the fields into argparse flags;
:func:`build_config` merges defaults < YAML file < explicit flags, converts types and
calls the dataclass' ``validate()``; errors name the file or flag that is wrong.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

C = TypeVar("C")
T = TypeVar("T")


class ConfigError(ValueError):
    """A config value is missing, of the wrong type, or invalid."""


def option(default: Any = dataclasses.MISSING, *, help: str, cli: bool = True, **kwargs: Any) -> Any:
    """A dataclass field with help text (list/dict defaults become factories).

    ``cli=False`` keeps the field out of the generated flags (e.g. a positional the
    command declares itself).
    """
    metadata = {"help": help, "cli": cli}
    if isinstance(default, list | dict | tuple) and not isinstance(default, str):
        value = default
        return dataclasses.field(default_factory=lambda: type(value)(value), metadata=metadata, **kwargs)
    return dataclasses.field(default=default, metadata=metadata, **kwargs)


def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _base_type(tp: Any) -> tuple[Any, bool]:
    """(inner type, optional?) for ``X | None``."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return tp, False


def add_config_arguments(parser: argparse.ArgumentParser, cls: type) -> None:
    """One ``--flag`` per dataclass field; defaults stay unset so YAML can fill them."""
    parser.add_argument("--config", type=Path, default=None, help="YAML file with any of the options below")
    hints = _field_types(cls)
    for f in dataclasses.fields(cls):
        if f.metadata.get("cli") is False:
            continue
        flag = "--" + f.name.replace("_", "-")
        tp, _ = _base_type(hints[f.name])
        default = f.default if f.default is not dataclasses.MISSING else None
        if f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            default = f.default_factory()  # type: ignore[misc]
        help_text = f.metadata.get("help", "")
        if default not in (None, [], ()):
            help_text += f" (default: {default})"
        if tp is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        elif typing.get_origin(tp) in (list, tuple):
            parser.add_argument(flag, nargs="+", default=None, help=help_text, metavar=f.name.upper())
        elif typing.get_origin(tp) is dict or tp is dict:
            parser.add_argument(
                flag, nargs="+", action="extend", default=None, help=help_text, metavar="KEY=VALUE"
            )
        else:
            parser.add_argument(flag, default=None, help=help_text, metavar=f.name.upper())


def _convert(name: str, value: Any, tp: Any, source: str) -> Any:
    inner, optional = _base_type(tp)
    if value is None:
        if optional:
            return None
        raise ConfigError(f"{source}: option '{name}' must not be empty")
    try:
        origin = typing.get_origin(inner)
        if origin in (list, tuple):
            (item_t, *_) = typing.get_args(inner) or (str,)
            items = value if isinstance(value, list | tuple) else str(value).split(",")
            converted = [_convert(name, v, item_t, source) for v in items]
            return tuple(converted) if origin is tuple else converted
        if origin is dict or inner is dict:
            if isinstance(value, list | tuple):  # KEY=VALUE words from the command line
                value = dict(_key_value(name, str(v), source) for v in value)
            if not isinstance(value, dict):
                raise TypeError("expected a mapping")
            value_t = (typing.get_args(inner) or (str, Any))[-1]
            if value_t is Any:  # typed later by whoever receives them (see call_with_options)
                return dict(value)
            return {k: _convert(f"{name}: {k}", v, value_t, source) for k, v in value.items()}
        if inner is bool:
            if isinstance(value, bool):
                return value
            lowered = str(value).lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        if inner is Path:
            return Path(value).expanduser()
        if inner in (int, float, str):
            if inner is int and isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            return inner(value)
        return value
    except ConfigError:
        raise
    except (TypeError, ValueError):
        raise ConfigError(
            f"{source}: option '{name}' = {value!r} is not a valid {getattr(inner, '__name__', inner)}"
        ) from None


def _key_value(name: str, word: str, source: str) -> tuple[str, str]:
    """``KEY=VALUE`` -> (key, the text after the first ``=``, unparsed: ``root=faces #1`` is 'faces #1')."""
    key, sep, text = word.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"{source}: option '{name}' expects KEY=VALUE words, got {word!r}")
    return key.strip().replace("-", "_"), text


def call_with_options(factory: Callable[..., T], kwargs: dict[str, Any], source: str) -> T:
    """``factory(**kwargs)`` where text values (from ``KEY=VALUE`` flags) become the annotated types.

    A parameter annotated ``int``, ``float``, ``bool``, ``Path`` or a tuple/list gets the
    value converted (``crop=no`` -> False, ``resolution=64`` -> 64); anything else stays
    the text as typed. Unknown keys are named with the known ones.
    """
    target = factory.__init__ if isinstance(factory, type) else factory  # type: ignore[misc]
    params = inspect.signature(target).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        known = [k for k in params if k != "self"]
        unknown = sorted(set(kwargs) - set(known))
        if unknown:
            raise ConfigError(f"{source}: unknown key(s) {', '.join(unknown)}; known: {', '.join(known)}")
    try:
        hints = typing.get_type_hints(target)
    except Exception:  # unresolvable annotations: pass the values through unchanged
        hints = {}
    converted = {
        k: _convert(k, v, hints[k], source) if isinstance(v, str) and k in hints else v
        for k, v in kwargs.items()
    }
    return factory(**converted)


def load_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML mapping, with errors that name the file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"{path}: cannot read config file ({err.strerror})") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({err})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of option names to values")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def build_config(
    cls: type[C], args: argparse.Namespace | None = None, yaml_path: Path | None = None, **overrides: Any
) -> C:
    """defaults < YAML < CLI flags < ``overrides``; then ``validate()``."""
    hints = _field_types(cls)  # type: ignore[arg-type]
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    yaml_path = yaml_path or (getattr(args, "config", None) if args is not None else None)
    if yaml_path is not None:
        data = load_yaml(yaml_path)
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(
                f"{yaml_path}: unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}"
            )
        values.update({k: _convert(k, v, hints[k], str(yaml_path)) for k, v in data.items()})
    if args is not None:
        for name in names:
            value = getattr(args, name, None)
            if value is not None:
                converted = _convert(name, value, hints[name], "--" + name.replace("_", "-"))
                if isinstance(converted, dict) and isinstance(values.get(name), dict):
                    converted = {**values[name], **converted}  # flags refine the YAML mapping key by key
                values[name] = converted
    for name, value in overrides.items():
        if name not in names:
            raise ConfigError(f"unknown option {name!r}")
        values[name] = _convert(name, value, hints[name], f"option {name!r}")
    missing = [
        f.name
        for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        if f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
        and f.name not in values  # type: ignore[misc]
    ]
    if missing:
        raise ConfigError(
            f"missing required option(s): {', '.join('--' + m.replace('_', '-') for m in missing)}"
        )
    config = cls(**values)
    validate = getattr(config, "validate", None)
    if validate is not None:
        validate()
    return config


def require_positive(config: Any, *names: str) -> None:
    """Raise ``ConfigError`` naming the first of ``names`` whose value is not > 0."""
    for name in names:
        value = getattr(config, name)
        if value <= 0:
            raise ConfigError(f"option '{name}' must be positive, got {value}")


def config_to_json(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a config (paths as strings)."""
    out = dataclasses.asdict(config)
    return {
        k: (str(v) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v) for k, v in out.items()
    }
