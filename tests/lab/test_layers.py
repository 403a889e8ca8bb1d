"""The control plane reports through a reporter the command layer passes: it never
imports `dogxray.render`, and without a reporter it prints nothing."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dogxray.lab
from dogxray.app import app
from dogxray.lab import service
from dogxray.lab.models import SetupOptions

from .conftest import Lab, tiny_zip


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
    return found


def test_the_control_plane_does_not_import_render() -> None:
    files = sorted(Path(dogxray.lab.__file__).parent.glob("*.py"))
    assert len(files) >= 10
    for path in files:
        upward = {m for m in _imports(path) if (m + ".").startswith("dogxray.render.")}
        assert not upward, f"{path.name} imports {sorted(upward)}"


def test_the_service_layer_is_silent_without_a_reporter(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = service.setup(lab.aws, SetupOptions(), zip_provider=tiny_zip)
    assert doc["function_url"]
    assert service.cleanup(lab.aws)["remaining"] == []
    assert capsys.readouterr() == ("", "")


def test_the_commands_report_each_step(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dogxray.lab.service.build_zip", tiny_zip)
    monkeypatch.setattr("dogxray.commands.lab.connect", lambda _ctx: lab.aws)
    result = CliRunner().invoke(app, ["create-bucket"])
    assert result.exit_code == 0, result.stderr
    bucket = "lovely-dogs-123456789012-us-east-1"
    assert result.stderr == (
        f"- create bucket {bucket} in us-east-1\n- tag bucket {bucket} as this lab's\n"
    )
    assert result.stdout == f"bucket {bucket} created\n"


def test_the_console_reporter_is_the_lab_renderer(capsys: pytest.CaptureFixture[str]) -> None:
    from dogxray.render.lab import REPORTER

    REPORTER.progress("create bucket b")
    with REPORTER.spinner("waiting for the new IAM role to reach Lambda") as update:
        update("waiting for the new IAM role to reach Lambda (5 s)")  # not a terminal: quiet
    assert capsys.readouterr() == (
        "",
        "- create bucket b\n  waiting for the new IAM role to reach Lambda ...\n",
    )
