"""`dogxray metrics`: the Monitor tab's numbers from CloudWatch (moto), sums that match
what was published, percentiles reported only when the endpoint computes them."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.core.aws import Aws
from dogxray.core.config import Settings
from dogxray.monitor import metrics
from dogxray.monitor.metrics import Durations, Metrics, Series
from dogxray.render import metrics as show

FUNCTION = "dog-photo-function"


@pytest.fixture
def aws() -> Iterator[Aws]:
    """moto with the percentiles the emulator teaches it (plain moto has none)."""
    from moto import mock_aws

    from dogxray.local import patches

    with patches.applied(), mock_aws():
        yield Aws(Settings.from_options(region="us-east-1"))


def publish(aws: Aws, name: str, values: list[tuple[datetime, float]], unit: str) -> None:
    aws.client("cloudwatch").put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": name,
                "Dimensions": [{"Name": "FunctionName", "Value": FUNCTION}],
                "Timestamp": when,
                "Value": value,
                "Unit": unit,
            }
            for when, value in values
        ],
    )


def test_sums_and_averages_match_what_was_published(aws: Aws) -> None:
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    first, second = now - timedelta(minutes=5), now - timedelta(minutes=3)
    publish(aws, "Invocations", [(first, 1)] * 5 + [(second, 1)] * 3, "Count")
    publish(aws, "Errors", [(second, 1)], "Count")
    publish(aws, "Throttles", [(second, 1)] * 2, "Count")
    publish(aws, "Duration", [(first, 10.0)] * 5 + [(second, 50.0)] * 3, "Milliseconds")
    publish(aws, "ConcurrentExecutions", [(first, 2), (second, 4)], "Count")
    doc = metrics.metrics(aws, FUNCTION, since="10m", period="1m").to_json()
    assert doc["invocations"]["total"] == 8
    assert doc["errors"]["total"] == 1 and doc["throttles"]["total"] == 2
    assert doc["duration_ms"]["average"] == 25.0  # (5 x 10 + 3 x 50) / 8
    assert doc["concurrent_executions"]["max"] == 4
    assert doc["period_s"] == 60 and len(doc["times"]) == 2
    assert doc["invocations"]["points"] == [5.0, 3.0]
    assert doc["errors"]["points"] == [None, 1.0]
    assert doc["duration_ms"]["p50_points"] == [10.0, 50.0]
    assert doc["duration_ms"]["p99_max"] == 50.0


def test_an_endpoint_that_fails_percentiles_leaves_them_null(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plain moto server answers percentile queries with HTTP 500."""
    from botocore.awsrequest import AWSResponse

    class Raw:
        def stream(self, **_: Any) -> Iterator[bytes]:
            yield b"<ErrorResponse><Error><Code>InternalFailure</Code></Error></ErrorResponse>"

    monkeypatch.setattr("botocore.endpoint.time.sleep", lambda _s: None)

    def fail_percentiles(request: Any, **_: Any) -> AWSResponse | None:
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
        if "p50" in body:
            return AWSResponse(request.url, 500, {}, Raw())
        return None

    aws.client("cloudwatch").meta.events.register(
        "before-send.cloudwatch.GetMetricData", fail_percentiles
    )
    now = datetime.now(timezone.utc) - timedelta(minutes=2)
    publish(aws, "Duration", [(now, 12.0)], "Milliseconds")
    doc = metrics.metrics(aws, FUNCTION, since="10m", period="1m").to_json()
    assert doc["duration_ms"]["average_points"] == [12.0]
    assert doc["duration_ms"]["p50_max"] is None and doc["duration_ms"]["p99_max"] is None
    assert doc["duration_ms"]["p50"] is None and doc["duration_ms"]["p99"] is None


def test_the_window_percentiles_are_over_every_datapoint_not_the_worst_minute(aws: Aws) -> None:
    """Nine fast requests in one minute, one slow in another: the window's p50 is the
    fast one (the largest per-minute p50 is the slow request)."""
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    fast, slow = now - timedelta(minutes=5), now - timedelta(minutes=3)
    durations = [(fast, 10.0 + i) for i in range(9)] + [(slow, 1000.0)]
    publish(aws, "Duration", durations, "Milliseconds")
    publish(aws, "Invocations", [(when, 1) for when, _ in durations], "Count")
    doc = metrics.metrics(aws, FUNCTION, since="10m", period="1m").to_json()
    d = doc["duration_ms"]
    assert d["p50_points"] == [14.0, 1000.0] and d["p50_max"] == 1000.0
    assert d["p50"] == 14.0  # nearest rank 5 of the 10 datapoints
    assert d["p99"] == 1000.0
    assert len(doc["times"]) == 2  # the window-long point is no sparkline point


def test_the_window_period_covers_the_window_at_cloudwatchs_resolution() -> None:
    end = datetime(2026, 11, 23, 9, 0, 30, tzinfo=timezone.utc)
    assert metrics.window_period(end - timedelta(minutes=10), end) == 660  # 08:50:00-09:01
    assert metrics.window_period(end - timedelta(seconds=20), end) == 60
    assert metrics.window_period(end - timedelta(hours=1), end) == 3660
    assert metrics.window_period(end - timedelta(days=20), end) % 300 == 0
    assert metrics.window_period(end - timedelta(days=20), end) >= 20 * 86_400 + 30


def test_another_functions_metrics_are_not_counted(aws: Aws) -> None:
    now = datetime.now(timezone.utc) - timedelta(minutes=2)
    aws.client("cloudwatch").put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": "Invocations",
                "Dimensions": [{"Name": "FunctionName", "Value": "someone-else"}],
                "Timestamp": now,
                "Value": 7,
            }
        ],
    )
    doc = metrics.metrics(aws, FUNCTION, since="10m", period="1m").to_json()
    assert doc["invocations"]["total"] == 0 and doc["times"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "90s"], "error: --period 90s is not a whole number of minutes"),
        (["--period", "soon"], "error: invalid --period 'soon'"),
        (["--since", "2d", "--period", "1m"], "error: --since 2d at --period 1m is over 1440"),
    ],
)
def test_bad_input_exits_2(args: list[str], message: str, aws: Aws) -> None:
    result = CliRunner().invoke(app, ["metrics", *args])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(message)


def test_sparkline() -> None:
    assert show.sparkline([0, 1, 2, 4, None, 8], 10) == "▁▂▃▅ █"
    assert show.sparkline([1, 1, 8, 8], 2) == "▂█"  # merged by their maximum
    assert show.sparkline([0, 0], 5) == "▁▁"
    assert show.sparkline([], 5) == ""


def test_text_output(monkeypatch: pytest.MonkeyPatch) -> None:
    buffer = io.StringIO()
    monkeypatch.setattr(show, "out", Console(file=buffer, width=80, no_color=True))
    doc = Metrics(
        function=FUNCTION,
        start="2026-11-23T09:00:00Z",
        end="2026-11-23T09:05:00Z",
        period_s=60,
        times=["t1", "t2", "t3"],
        invocations=Series([2.0, 8.0, 2.0], total=12.0),
        errors=Series([None, 1.0, None], total=1.0),
        throttles=Series([None, None, None], total=0.0),
        duration_ms=Durations(
            average=20.5,
            p50=13.0,
            p99=600.1,
            p50_max=14.0,
            p99_max=612.3,
            average_points=[15.0, 30.0, 12.0],
            p50_points=[],
            p99_points=[],
        ),
        concurrent_executions=Series([1.0, 5.0, 1.0], max=5.0),
    )
    show.monitor(doc)
    assert buffer.getvalue() == (
        "dog-photo-function: 2026-11-23T09:00:00Z to 2026-11-23T09:05:00Z, per 60 s\n"
        "Invocations           ▃█▃  total 12\n"
        "Errors                 █   total 1\n"
        "Throttles                  total 0\n"
        "Duration (ms)         ▅█▄  avg 20.5 p50 13 p99 600.1\n"
        "ConcurrentExecutions  ▂█▂  max 5\n"
    )


def test_the_alarm_threshold_is_drawn_under_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    from dogxray.lab.alarm import AlarmLine

    buffer = io.StringIO()
    monkeypatch.setattr(show, "out", Console(file=buffer, width=80, no_color=True))
    doc = Metrics(
        function=FUNCTION,
        start="2026-11-23T09:00:00Z",
        end="2026-11-23T09:05:00Z",
        period_s=60,
        times=["t1", "t2", "t3", "t4"],
        invocations=Series([2.0, 8.0, 2.0, 3.0], total=15.0),
        errors=Series([0.0, 3.0, None, 1.0], total=4.0),
        throttles=Series([None, None, None, None], total=0.0),
        duration_ms=Durations(None, None, None, None, None, [], [], []),
        concurrent_executions=Series([1.0, 1.0, 1.0, 1.0], max=1.0),
    )
    line = AlarmLine("dog-photo-function-errors", 2.0, 60, "ALARM")
    show.monitor(doc, alarm=line)
    lines = buffer.getvalue().splitlines()
    assert lines[2:4] == [
        "Errors                ▁█ ▃  total 4",
        "  alarm >= 2          _! _  ALARM (dog-photo-function-errors)",
    ]
    assert show.threshold_marks([0.0, 3.0, None, 1.0], 2.0, 2) == "!_"  # merged: max
    assert line.to_json() == {
        "alarm": "dog-photo-function-errors",
        "threshold": 2.0,
        "period_s": 60,
        "state": "ALARM",
        "reason": None,
    }


def test_text_output_labels_per_period_percentiles_as_such(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An endpoint that gave per-period percentiles but no window one: their maximum is
    not called the window's p50/p99."""
    buffer = io.StringIO()
    monkeypatch.setattr(show, "out", Console(file=buffer, width=80, no_color=True))
    doc = Metrics(
        function=FUNCTION,
        start="2026-11-23T09:00:00Z",
        end="2026-11-23T09:05:00Z",
        period_s=60,
        times=["t1"],
        invocations=Series([2.0], total=2.0),
        errors=Series([None], total=0.0),
        throttles=Series([None], total=0.0),
        duration_ms=Durations(20.5, None, None, 14.0, 612.3, [20.5], [14.0], []),
        concurrent_executions=Series([1.0], max=1.0),
    )
    show.monitor(doc)
    assert "Duration (ms)         █  avg 20.5 max p50 14 p99 612.3\n" in buffer.getvalue()
