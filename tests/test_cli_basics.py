"""The CLI's shell: start-up cost, version, global-option errors, and the commands that
need a deployed lab or a confirmation."""

from __future__ import annotations

import subprocess
import sys

from moto import mock_aws
from typer.testing import CliRunner

from dogxray import __version__
from dogxray.app import app

runner = CliRunner()


def test_help_imports_neither_boto3_nor_moto_nor_the_emulator() -> None:
    code = (
        "import sys\n"
        "from dogxray.app import app\n"
        "try:\n"
        "    app(['--help'], prog_name='dogxray')\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('boto3', 'botocore', 'moto', 'dogxray.local') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "HEAVY []" in result.stdout
    assert "Usage: dogxray" in result.stdout


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"dogxray {__version__}\n"


def test_bad_lab_name_is_a_usage_error() -> None:
    result = runner.invoke(app, ["--lab", "no spaces", "status"])
    assert result.exit_code == 2
    assert "error: invalid lab name 'no spaces'" in result.output
    assert "Traceback" not in result.output


def test_bad_endpoint_is_a_usage_error() -> None:
    result = runner.invoke(app, ["--endpoint-url", "localhost:4566", "status"])
    assert result.exit_code == 2
    assert "error: invalid endpoint URL 'localhost:4566'" in result.output
    assert "hint: give a full URL such as http://127.0.0.1:4566" in result.output


def test_unreachable_endpoint_fails_in_seconds() -> None:
    result = runner.invoke(app, ["--endpoint-url", "http://127.0.0.1:9", "status"])
    assert result.exit_code == 1
    assert "error: cannot reach the endpoint http://127.0.0.1:9" in result.output
    assert "hint: start the emulator with `dogxray local`" in result.output
    assert "Traceback" not in result.output


def test_test_before_setup_says_what_to_do() -> None:
    with mock_aws():
        result = runner.invoke(app, ["test"])
    assert result.exit_code == 1
    assert "error: nothing deployed; run `dogxray setup` first" in result.output
    assert "Traceback" not in result.output


def test_test_count_must_be_positive() -> None:
    result = runner.invoke(app, ["test", "--count", "0"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_demo_on_aws_needs_confirmation_without_a_terminal() -> None:
    result = runner.invoke(app, ["demo"], input="")
    assert result.exit_code == 2
    assert result.output == (
        "error: refusing to create resources in AWS without confirmation\n"
        "hint: add --yes to run the demo there (it creates a lab of its own and deletes it "
        "again), or --local to run offline\n"
    )
