"""The control plane reports through a reporter the command layer passes: without one it
prints nothing (that no service module imports `dogxray.render`: tests/test_layers.py)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.lab import service
from dogxray.lab.models import SetupOptions

from .conftest import Lab, tiny_zip


def test_the_service_layer_is_silent_without_a_reporter(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = service.setup(lab.aws, SetupOptions(), zip_provider=tiny_zip).to_json()
    assert doc["function_url"]
    assert service.cleanup(lab.aws).to_json()["remaining"] == []
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
