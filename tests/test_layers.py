"""The import structure: no cli ⇄ commands cycle (the package root, `dogxray.app`,
registers the commands), and no service module imports `dogxray.render` (the command
layer passes reporters); global options reach commands through typer's `ctx.obj`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dogxray
from dogxray.app import app

PACKAGE = Path(dogxray.__file__).parent
# The command layer: may import render; everything else is service code.
COMMAND_LAYER = {"app.py", "cli.py", "__main__.py"}


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
    return found


def _under(modules: set[str], package: str) -> set[str]:
    return {m for m in modules if (m + ".").startswith(package + ".")}


def test_cli_imports_neither_the_app_nor_the_commands() -> None:
    found = _imports(PACKAGE / "cli.py")
    assert not _under(found, "dogxray.commands") | _under(found, "dogxray.app")


def test_no_command_module_imports_the_app() -> None:
    files = sorted((PACKAGE / "commands").glob("*.py"))
    assert len(files) >= 10
    for path in files:
        assert not _under(_imports(path), "dogxray.app"), path.name


def test_service_code_does_not_import_render() -> None:
    services = [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE).parts[0] not in ("commands", "render", "_payload")
        and path.name not in COMMAND_LAYER
    ]
    assert len(services) >= 40
    for path in services:
        upward = _under(_imports(path), "dogxray.render")
        assert not upward, f"{path.relative_to(PACKAGE)} imports {sorted(upward)}"


def test_help_names_the_environment_variables() -> None:
    result = CliRunner().invoke(app, ["--help"], terminal_width=200)
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "[env var: AWS_PROFILE]" in text
    assert "[env var: AWS_REGION, AWS_DEFAULT_REGION]" in text
    assert "[env var: AWS_ENDPOINT_URL]" in text


def test_an_environment_value_has_the_same_message_as_before() -> None:
    result = CliRunner().invoke(app, ["status"], env={"AWS_ENDPOINT_URL": "localhost:4566"})
    assert result.exit_code == 2
    assert result.stderr == (
        "error: invalid endpoint URL 'localhost:4566'\n"
        "hint: give a full URL such as http://127.0.0.1:4566\n"
    )


@pytest.mark.parametrize("env", [{}, {"AWS_ENDPOINT_URL": "localhost:4566"}])
def test_the_explicit_option_wins_over_the_environment(env: dict[str, str]) -> None:
    """The option reaches the command through ctx.obj: the endpoint it names is the one
    the command fails to reach (port 9, discard: refused at once)."""
    result = CliRunner().invoke(app, ["--endpoint-url", "http://127.0.0.1:9", "status"], env=env)
    assert result.exit_code == 1
    assert "error: cannot reach the endpoint http://127.0.0.1:9" in result.stderr


def test_an_empty_region_in_the_environment_is_not_an_empty_option() -> None:
    """`--region ''` is a usage error naming --region; AWS_REGION='' is as if unset."""
    result = CliRunner().invoke(
        app, ["--endpoint-url", "http://127.0.0.1:9", "status"], env={"AWS_REGION": ""}
    )
    assert "--region is empty" not in result.output
    assert result.exit_code == 1


@pytest.mark.parametrize(("flags", "traceback"), [([], False), (["--debug"], True)])
def test_debug_from_ctx_obj_shows_the_traceback(flags: list[str], traceback: bool) -> None:
    result = CliRunner().invoke(app, [*flags, "--endpoint-url", "http://127.0.0.1:9", "status"])
    assert result.exit_code == 1
    assert ("Traceback (most recent call last)" in result.stderr) is traceback
    assert result.stderr.splitlines()[-2].startswith("error: cannot reach the endpoint")
