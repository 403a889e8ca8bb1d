"""The import structure, as ARCHITECTURE.md's map draws it: each capability package
imports only the packages the map allows (imports inside functions and under
TYPE_CHECKING count too), no two modules import each other even lazily, no cli ⇄
commands cycle (the package root, `dogxray.app`, registers the commands), and no service
module imports `dogxray.render` (the command layer passes reporters); global options
reach commands through typer's `ctx.obj`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dogxray
from dogxray.app import app

PACKAGE = Path(dogxray.__file__).parent
# The command layer: may import render; everything else is service code.
COMMAND_LAYER = {"app.py", "cli.py", "coercion.py", "__main__.py"}


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
    return found


# What each part of the package may import besides itself and the root (`__version__`):
# ARCHITECTURE.md's map. Top-level modules are named by file (app, cli, __main__).
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "packaging": {"core"},
    "traces": {"core"},
    "lab": {"core", "packaging"},
    "monitor": {"core", "traces"},
    "triage": {"core", "lab", "traces", "monitor"},
    "local": {"core", "traces.rules"},
    "demo": {"core", "packaging", "lab", "traces", "monitor", "triage", "local"},
    "render": {"core", "packaging", "lab", "traces", "monitor", "triage", "demo"},
    "coercion": set(),
    "cli": {"core", "render", "coercion"},
    "commands": {
        *("core", "packaging", "lab", "traces", "monitor", "triage", "demo", "local"),
        *("render", "cli"),
    },
    "app": {"core", "render", "cli", "commands", "coercion"},
    "__main__": {"app"},
}


def _modules() -> dict[str, Path]:
    """Every module of the package by dotted name (packages by their own name)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if "_payload" not in parts:  # the Lambda function's code, not dogxray's
            found[".".join(parts)] = path
    return found


def _part(module: str) -> str:
    """`dogxray.lab.service` -> "lab"; `dogxray.cli` -> "cli"."""
    return module.split(".")[1] if module.count(".") else ""


def _targets(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The dogxray modules a module imports: `from pkg import module` names the module,
    `from pkg import name` the package; its own parent packages (always imported before
    it) and the root do not count."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in modules else node.module)
    return {m for m in found if m in modules and m != name and not name.startswith(m + ".")}


@pytest.mark.slow
def test_every_part_imports_only_what_the_map_allows() -> None:
    modules = _modules()
    assert {_part(m) for m in modules} - {""} == set(ALLOWED)
    wrong = []
    for name, path in sorted(modules.items()):
        part = _part(name)
        if not part:
            continue
        for target in sorted(_targets(name, path, modules)):
            other = _part(target)
            allowed = ALLOWED[part]
            sub = ".".join(target.split(".")[1:3])
            if other not in (part, "") and other not in allowed and sub not in allowed:
                wrong.append(f"{name} imports {target}")
    assert wrong == []


def test_no_two_modules_import_each_other() -> None:
    """No import cycle, lazy or type-only ones included (Tarjan's strongly connected
    components of the module graph; a package's `__init__` counts as a module)."""
    modules = _modules()
    graph = {m: _targets(m, p, modules) for m, p in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    assert cycles == []


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


def test_the_lazy_command_map_names_every_command_of_every_module() -> None:
    """`dogxray.app.COMMANDS` (a command's module is imported when it runs) lists each
    command of each `dogxray.commands` module, under the module that defines it."""
    from dogxray.app import COMMANDS, module_commands

    found = {}
    for path in sorted((PACKAGE / "commands").glob("*.py")):
        if path.stem != "__init__":
            found.update(dict.fromkeys(module_commands(path.stem, app), path.stem))
    assert found == COMMANDS
