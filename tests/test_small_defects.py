"""Issue 11's smaller defects: `test` without a Function URL, an empty `--region`,
shell completion, and messages that name the back end they talk to."""

from __future__ import annotations

import io
import json
import sys
from typing import Any

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.core.config import TAG_LAB, Settings
from tests.helpers import TRUST

runner = CliRunner()


def test_empty_region_is_a_usage_error() -> None:
    result = runner.invoke(app, ["--region", "", "status"])
    assert result.exit_code == 2
    assert result.output == (
        "error: --region is empty\n"
        "hint: give a region code such as us-east-1, or leave --region out to use "
        "AWS_REGION / the profile's region\n"
    )


def test_shell_completion_is_available(monkeypatch: pytest.MonkeyPatch) -> None:
    # typer detects the shell from the parent processes unless told not to; a test run
    # under no shell (CI, a background job) would then print "Shell  not supported".
    # Without detection `--show-completion` takes the shell's name, as here.
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    helped = runner.invoke(app, ["--help"])
    assert "--install-completion" in helped.output
    assert "--show-completion" in helped.output
    shown = runner.invoke(app, ["--show-completion", "bash"])
    assert shown.exit_code == 0
    assert "_dogxray_completion()" in shown.output
    assert "complete -o default -F _dogxray_completion dogxray" in shown.output


@pytest.mark.slow
def test_test_without_a_function_url_says_how_to_add_one() -> None:
    with mock_aws():
        role = boto3.client("iam", region_name="us-east-1").create_role(
            RoleName="dog-photo-function-role", AssumeRolePolicyDocument=json.dumps(TRUST)
        )
        boto3.client("lambda", region_name="us-east-1").create_function(
            FunctionName="dog-photo-function",
            Runtime="python3.13",
            Role=role["Role"]["Arn"],
            Handler="lambda_function.lambda_handler",
            Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18},
            Tags={TAG_LAB: "dog-photo"},
        )
        result = runner.invoke(app, ["--region", "us-east-1", "test"])
    assert result.exit_code == 1
    assert result.output == (
        "error: the function dog-photo-function has no Function URL to test (lab dog-photo "
        "in AWS account 123456789012, region us-east-1)\n"
        "hint: add one with `dogxray --region us-east-1 configure --url`, then re-run "
        "`dogxray --region us-east-1 test`\n"
    )


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_demo_confirmation_names_the_account_region_and_every_resource(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from dogxray.commands.demo import confirm_demo
    from dogxray.core.aws import Aws
    from dogxray.demo import own_lab as demo

    monkeypatch.setattr(sys, "stdin", _Terminal("y\n"))
    given = Settings.from_options(region="eu-west-1")
    settings = demo.lab_settings(given, lab_given=False, local=False, token="abc123")
    with mock_aws():
        confirm_demo(settings, lambda: demo.plan(Aws(settings)))
    err: Any = capsys.readouterr().err
    assert err == (
        "demo will create the lab 'dog-photo-demo-abc123' in AWS account 123456789012, "
        "region eu-west-1:\n"
        "  bucket lovely-dogs-dog-photo-demo-abc123-123456789012-eu-west-1\n"
        "  role dog-photo-demo-abc123-function-role-eu-west-1\n"
        "  function dog-photo-demo-abc123-function with a public Function URL (auth NONE)\n"
        "  log group /aws/lambda/dog-photo-demo-abc123-function\n"
        "then break it, fix it, and delete exactly these again; nothing else is touched.\n"
        "continue? [y/N] "
    )
