"""`metrics` fits the terminal (issue 15, item 23): large durations (four- and
five-digit figures) and an hour of points within COLUMNS=80; the sparklines give way to
the figures, which move below the sparkline on a narrower terminal. JSON is unchanged."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.core.aws import Aws
from tests.test_metrics import aws, publish

__all__ = ["aws"]  # the fixture: moto with the percentiles the emulator teaches it


def _hour_of_slow_requests(aws: Aws) -> None:
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    minutes = [now - timedelta(minutes=m) for m in range(2, 58)]
    publish(aws, "Invocations", [(t, 1200.0) for t in minutes], "Count")
    publish(aws, "Errors", [(t, 17.0) for t in minutes], "Count")
    publish(aws, "Throttles", [(t, 3.0) for t in minutes], "Count")
    durations = [(t, 10_000.0 + 97.3 * i) for i, t in enumerate(minutes)]
    publish(aws, "Duration", durations, "Milliseconds")
    publish(aws, "ConcurrentExecutions", [(t, 1000.0) for t in minutes], "Count")


@pytest.mark.slow
@pytest.mark.parametrize("columns", [80, 60])
def test_every_line_fits(aws: Aws, monkeypatch: pytest.MonkeyPatch, columns: int) -> None:
    _hour_of_slow_requests(aws)
    monkeypatch.setenv("COLUMNS", str(columns))
    result = CliRunner().invoke(app, ["metrics", "--since", "1h"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line for line in lines if len(line) > columns] == []
    duration = next(i for i, line in enumerate(lines) if line.startswith("Duration (ms)"))
    figures = lines[duration] if "avg " in lines[duration] else lines[duration + 1]
    assert "avg " in figures and " p99 " in figures  # every figure shown, none cut
    if columns == 60:
        assert lines[duration + 1].startswith(" " * 22 + "avg ")
        assert lines[1].startswith("  to ") and lines[1].endswith(", per 60 s")


@pytest.mark.slow
def test_json_does_not_depend_on_the_width(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    _hour_of_slow_requests(aws)
    docs = []
    for columns in ("60", "200"):
        monkeypatch.setenv("COLUMNS", columns)
        result = CliRunner().invoke(app, ["metrics", "--since", "1h", "--output", "json"])
        docs.append(json.loads(result.stdout))
    assert docs[0]["duration_ms"] == docs[1]["duration_ms"]
    assert docs[0]["invocations"] == docs[1]["invocations"]
