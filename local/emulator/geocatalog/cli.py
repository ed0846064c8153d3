"""`python -m local.emulator geocatalog --port 8700 [--host 127.0.0.1] [switches]`.

Every GeoCatalogConfig field is a flag (`latency_seconds` -> `--latency-seconds`).
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from typing import Any, Literal

from local.emulator.geocatalog.app import create_app
from local.emulator.geocatalog.config import GeoCatalogConfig, coerce, field_type
from local.server import serve_foreground


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _add_field(parser: argparse.ArgumentParser, config_field: dataclasses.Field[Any]) -> None:
    hint = field_type(config_field)
    help_text = str(config_field.metadata.get("help", ""))
    default = config_field.default
    help_text = f"{help_text} (default: {default})"
    flag = _flag(config_field.name)
    origin = typing.get_origin(hint)
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        hint, origin = args[0], typing.get_origin(args[0])
    if hint is bool:
        parser.add_argument(
            flag, action=argparse.BooleanOptionalAction, default=None, help=help_text
        )
    elif origin is Literal:
        parser.add_argument(flag, choices=typing.get_args(hint), default=None, help=help_text)
    elif origin is tuple:
        inner = typing.get_args(hint)
        nargs: int | str = "+" if len(inner) == 2 and inner[1] is Ellipsis else len(inner)
        parser.add_argument(flag, nargs=nargs, default=None, metavar="VALUE", help=help_text)
    else:
        parser.add_argument(flag, default=None, metavar="VALUE", help=help_text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local.emulator geocatalog",
        description="Run the GeoCatalog emulator in the foreground.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8700, help="port (default: 8700)")
    parser.add_argument("--log-level", default="warning", help="uvicorn log level")
    for config_field in dataclasses.fields(GeoCatalogConfig):
        _add_field(parser, config_field)
    return parser


def config_from_args(namespace: argparse.Namespace) -> GeoCatalogConfig:
    changes: dict[str, Any] = {}
    for config_field in dataclasses.fields(GeoCatalogConfig):
        value = getattr(namespace, config_field.name)
        if value is None:
            continue
        if isinstance(value, str) and value.lower() in ("none", "null"):
            value = None
        changes[config_field.name] = coerce(config_field, value)
    return dataclasses.replace(GeoCatalogConfig(), **changes)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    namespace = parser.parse_args(argv)
    try:
        config = config_from_args(namespace)
    except ValueError as exc:
        parser.error(str(exc))
    print(
        f"GeoCatalog emulator on http://{namespace.host}:{namespace.port} "
        f"(budget {config.budget_per_second:g}/s, operations "
        f"{config.operation_duration_seconds[0]:g}-{config.operation_duration_seconds[1]:g} s, "
        f"managed storage: {config.managed_storage})",
        flush=True,
    )
    serve_foreground(
        create_app(config), host=namespace.host, port=namespace.port, log_level=namespace.log_level
    )
    return 0
