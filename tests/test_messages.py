"""Range messages that state what they accept and suggest values that work; empty
options refused alike; `--help` in the lab's order; `--runtime` help from the runtimes
table; `test --output json` always an array."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from moto import mock_aws
from typer.testing import CliRunner

from dogxray.app import COMMANDS, app
from dogxray.core import runtimes
from dogxray.core.config import Settings
from dogxray.lab.models import Deployed
from dogxray.lab.probe import ProbeResult
from dogxray.monitor.metrics import parse_period

runner = CliRunner()


def invoke(*args: str, **kwargs: Any) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), **kwargs)
    return result.exit_code, result.stdout, result.stderr


# --- item 19: range messages and empty options -------------------------------------------


@pytest.mark.parametrize(
    ("args", "lines"),
    [
        (
            ["load", "--duration", "0s"],
            [
                "error: --duration 0s is too short: it must be more than 0 s and at most 600 s",
                "hint: use e.g. 500ms, 30s or 2m",
            ],
        ),
        (
            ["metrics", "--period", "0s"],
            [
                "error: --period 0s is too short: it must be from 60 s to 86400 s",
                "hint: use e.g. 1m, 5m or 1h",
            ],
        ),
        (
            ["metrics", "--period", "2d"],
            ["error: invalid --period '2d'", "hint: use e.g. 1m, 5m or 1h"],
        ),
        (
            ["--endpoint-url", "", "status"],
            [
                "error: --endpoint-url is empty",
                "hint: give a full URL such as http://127.0.0.1:4566, or leave --endpoint-url "
                "out to use AWS_ENDPOINT_URL / AWS",
            ],
        ),
        (
            ["--region", "", "status"],
            [
                "error: --region is empty",
                "hint: give a region code such as us-east-1, or leave --region out to use "
                "AWS_REGION / the profile's region",
            ],
        ),
    ],
)
def test_range_and_empty_value_messages(args: list[str], lines: list[str]) -> None:
    code, _, err = invoke(*args)
    assert code == 2
    assert err.splitlines() == lines


def test_suggested_periods_are_accepted() -> None:
    assert [parse_period(p) for p in ("1m", "5m", "1h")] == [60, 300, 3600]


def test_empty_environment_values_count_as_unset() -> None:
    settings = Settings.from_options(environ={"AWS_ENDPOINT_URL": "", "AWS_REGION": " "})
    assert (settings.endpoint_url, settings.region) == (None, None)


# --- item 23 (parts): --help order, --runtime help ---------------------------------------


def test_help_lists_the_commands_as_the_lab_runs() -> None:
    code, out, _ = invoke("--help", terminal_width=200)
    assert code == 0
    listed = [line.split()[0] for line in out.split("Commands:")[1].splitlines() if line.strip()]
    assert listed == list(COMMANDS)
    assert listed[:7] == [
        "create-bucket",
        "create-role",
        "deploy-function",
        "configure",
        "setup",
        "status",
        "test",
    ]
    assert listed.index("cleanup") < listed.index("inject") < listed.index("analyze")


def test_runtime_help_comes_from_the_runtimes_table() -> None:
    assert runtimes.help_text(date(2026, 12, 3)) == (
        "python3.11-3.14 (default python3.13); python3.8-3.10 deprecated, still accepted"
    )
    assert runtimes.help_text(date(2024, 1, 1)) == (
        "python3.8-3.14 (default python3.13); python3.7 deprecated, still accepted"
    )
    code, out, _ = invoke("setup", "--help", terminal_width=300)
    assert code == 0
    assert runtimes.help_text() in " ".join(out.split())


# --- test --output json: always an array -------------------------------------------------


@pytest.mark.parametrize("count", [1, 2])
def test_test_json_is_always_an_array(monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    result = ProbeResult(True, 200, "image/jpeg", 3, "ab" * 32, "k.jpg", True, 12.5)
    lab = Deployed(
        function_name="dog-photo-function",
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:dog-photo-function",
        function_url="http://127.0.0.1:1/",
        bucket="b",
        env_bucket="b",
    )
    monkeypatch.setattr("dogxray.commands.test.connect", lambda _ctx: None)
    monkeypatch.setattr("dogxray.lab.service.deployed", lambda _aws: lab)
    monkeypatch.setattr("dogxray.lab.probe.check_runs_functions", lambda _aws, _url: None)
    monkeypatch.setattr("dogxray.lab.probe.run", lambda *_a, count, **_k: [result] * count)
    code, out, _ = invoke("test", "--count", str(count), "--output", "json")
    assert code == 0
    assert json.loads(out) == [result.to_json()] * count


@pytest.mark.slow
@pytest.mark.parametrize(("since", "period"), [("2d", "5m"), ("100d", "2h"), ("455d", "12h")])
def test_too_many_points_suggests_a_period_that_works(since: str, period: str) -> None:
    with mock_aws():
        code, _, err = invoke("--region", "us-east-1", "metrics", "--since", since)
    assert code == 2
    assert err.splitlines()[1] == f"hint: use --period {period} or longer for this window"
    with mock_aws():
        assert (
            invoke("--region", "us-east-1", "metrics", "--since", since, "--period", period)[0] == 0
        )
