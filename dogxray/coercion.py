"""Command-line values converted without pydantic.

typer 0.29 converts every option's value through a pydantic TypeAdapter: importing
pydantic and building the adapters is ~0.1 s of every command's start, more than
`dogxray traces` spends listing 1,000 traces. The values dogxray's options take (text,
whole and decimal numbers in their range, choices, paths, repeated text) are converted
here exactly as typer converts them; anything else, and every value typer would refuse,
goes to typer's own conversion, so results and error messages stay typer's.
tests/test_coercion.py checks every option of every command against typer's conversion.
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

from typer._coercion import build_runtime_param
from typer._param_types import coerce_cli_choice, coerce_cli_path

_TYPER = object()  # "not converted here: ask typer"
# Plain numerals only; pydantic also reads "1_000", " 7 " or "1e3", which typer's path keeps.
_NUMERAL = {
    int: re.compile(r"-?(?:0|[1-9][0-9]*)"),
    float: re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?"),
}


class LeanValue:
    """A typer parameter's runtime conversion (typer's `RuntimeParam` contract:
    `coerce(value, param=, ctx=)`) that builds typer's own only when it is needed."""

    def __init__(self, descriptor: Any) -> None:
        self.descriptor = descriptor
        self._typer: Any = None

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        multiple = param.multiple or param.nargs == -1
        if value is None:
            return () if multiple else None  # as typer's RuntimeParam.coerce
        if not (multiple and isinstance(value, str)):
            converted = _convert(self.descriptor, value, param, ctx)
            if converted is not _TYPER:
                return converted
        if self._typer is None:
            self._typer = build_runtime_param(self.descriptor)
        return self._typer.coerce(value, param=param, ctx=ctx)


class LeanOptions:
    """Mixin for typer's command classes: every parameter (the `--help` typer adds per
    context included) gets the lean conversion. A typer whose parameters are laid out
    otherwise keeps its own conversion."""

    def get_params(self, ctx: Any) -> list[Any]:
        params: list[Any] = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "_runtime_param", False) is None and hasattr(
                param, "type_descriptor"
            ):
                param._runtime_param = LeanValue(param.type_descriptor)
        return params


def _convert(descriptor: Any, value: Any, param: Any, ctx: Any) -> Any:
    annotation, info = descriptor.annotation, descriptor.parameter_info
    if info.parser is not None or descriptor.file_annotation is not None:
        return _TYPER
    if get_origin(annotation) is list and get_args(annotation) == (str,):
        ok = isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
        return list(value) if ok else _TYPER
    if annotation is str:
        return value if isinstance(value, str) else _TYPER
    if annotation is int or annotation is float:
        return _number(annotation, info, value)
    try:
        if isinstance(annotation, type) and issubclass(annotation, Enum):
            return coerce_cli_choice(
                value, choices=tuple(annotation), case_sensitive=info.case_sensitive, ctx=ctx
            )
        if descriptor.is_path and isinstance(value, str) and value:
            path_type = info.path_type or (annotation if issubclass(annotation, Path) else None)
            return coerce_cli_path(value, info, path_type=path_type, param=param, ctx=ctx)
    except Exception:  # typer's path gives the message
        return _TYPER
    return _TYPER


def _number(kind: type, info: Any, value: Any) -> Any:
    if info.clamp:
        return _TYPER
    if (
        (isinstance(value, str) and _NUMERAL[kind].fullmatch(value))
        or type(value) is int
        or type(value) is kind
    ):
        number = kind(value)
    else:
        return _TYPER
    if (info.min is not None and number < info.min) or (info.max is not None and number > info.max):
        return _TYPER
    return number
