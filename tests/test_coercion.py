"""Option values without pydantic (`dogxray.coercion`): for every option of every command,
the lean conversion gives what typer's own gives (value and type) or defers to it, so a
refused value gets typer's message; and a command run never imports pydantic."""

from __future__ import annotations

import os
import subprocess
import sys
from enum import Enum
from typing import Any

import pytest
import typer.main
from typer._click import Context
from typer._click.exceptions import BadParameter
from typer._coercion import build_runtime_param

from dogxray.app import app
from dogxray.coercion import LeanValue
from tests.conftest import OFFLINE_ENV

TEXTS = (
    *("0", "1", "7", "-3", "-0", "007", "100", "101", "1000", "1001", "65535", "65536"),
    *("1.5", "-0.25", "2.", ".5", "1e3", "1_000", " 7", "abc", "", "nan"),
    *("text", "json", "TEXT", "Json", "dot", "mermaid", "xray", "otel", "x"),
    *("/tmp/page.html", "rel/page.html", "~/page.html"),
)


def _params() -> list[tuple[str, Any, Context]]:
    """Every parameter of the app: the root's, each command's, their `--help`."""
    root = typer.main.get_command(app)
    found = []
    for name, command in [("dogxray", root), *root.commands.items()]:  # type: ignore[attr-defined]
        ctx = Context(command, info_name=name)
        found += [(f"{name} {param.name}", param, ctx) for param in command.get_params(ctx)]
    return found


def _outcome(runtime: Any, value: Any, param: Any, ctx: Context) -> tuple[str, Any]:
    try:
        converted = runtime.coerce(value, param=param, ctx=ctx)
    except BadParameter as exc:
        return "refused", exc.format_message()
    return type(converted).__name__, repr(converted)  # repr: nan is nan


def _values(param: Any) -> list[Any]:
    annotation = param.type_descriptor.annotation
    values: list[Any] = [None, param.default, *TEXTS, 0, 3, 2.5, True]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        values += list(annotation)
    if param.multiple:
        values += [(), ("a",), ("a", "b"), ["a", "b"], ("a", 1)]
    return values


PARAMS = _params()


def test_every_command_has_options_to_check() -> None:
    names = {label.split()[0] for label, _, _ in PARAMS}
    assert {"dogxray", "traces", "trace", "report", "setup", "local", "demo"} <= names
    assert len(PARAMS) > 100


@pytest.mark.parametrize(("label", "param", "ctx"), PARAMS, ids=[p[0] for p in PARAMS])
def test_lean_conversion_is_typers(label: str, param: Any, ctx: Context) -> None:
    lean = LeanValue(param.type_descriptor)
    typers = build_runtime_param(param.type_descriptor)
    for value in _values(param):
        assert _outcome(lean, value, param, ctx) == _outcome(typers, value, param, ctx), (
            label,
            value,
        )


def test_the_root_and_commands_use_the_lean_conversion() -> None:
    """After a run, every parameter typer processed holds a `LeanValue` (typer's
    `_runtime_param`), the `--help` it adds per context included."""
    root = typer.main.get_command(app)
    traces = root.commands["traces"]  # type: ignore[attr-defined]
    ctx = Context(traces, info_name="traces")
    params = traces.get_params(ctx)
    assert any(p.name == "help" for p in params)
    assert all(isinstance(p._runtime_param, LeanValue) for p in params)


_RUN = """
import sys
from dogxray.app import app
try:
    app(sys.argv[1:])
except SystemExit as done:
    print(done.code, "pydantic" in sys.modules)
"""


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["traces", "--limit", "5", "--since", "30m", "-o", "json", "--min-duration", "1.5s"], 1),
        (["report", "--output", "page.html", "--since", "2h"], 1),
        (["demo", "--local", "--tracer", "otel", "--help"], 0),
    ],
)
def test_a_run_imports_no_pydantic(tmp_path: Any, args: list[str], code: int) -> None:
    """The options are converted, the command fails to reach the closed port (exit 1):
    pydantic was never imported."""
    env = {**os.environ, **OFFLINE_ENV, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    done = subprocess.run(
        [sys.executable, "-c", _RUN, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.stdout.split()[-2:] == [str(code), "False"], done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["local", "--port", "70000"],
            "error: invalid value for '--port': Input should be less than or equal to 65535",
        ),
        (
            ["traces", "-o", "yaml"],
            "error: invalid value for '--output' / '-o': 'yaml' is not one of 'text', 'json'",
        ),
        (
            ["test", "--count", "1_0000"],
            "error: invalid value for '--count': Input should be less than or equal to 1000",
        ),
    ],
)
def test_a_refused_value_gets_typers_message(args: list[str], message: str) -> None:
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert result.output.splitlines()[0] == message
