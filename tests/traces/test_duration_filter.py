"""`traces --min-duration/--max-duration` (server-side `responsetime` on AWS, client-side
elsewhere) and the response-time histogram of `traces --stats`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import ANY
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.traces import service
from dogxray.traces.fetch import filter_expression
from tests.traces.test_fetch_stubbed import destination, ids, stubbed, summary, traces_response
from tests.traces.tracedocs import FUNCTION, put

__all__ = ["stubbed"]  # the Stubber fixture, shared with test_fetch_stubbed.py
# durations of the recordings: success 1160 ms, fault_separate 910 ms, access denied
# 820 ms, in progress 431 ms, other service 200 ms (out of scope)
ALL = [
    "success_embedded",
    "fault_separate",
    "fault_embedded_accessdenied",
    "in_progress_separate",
    "other_service",
]


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_filter_expression_joins_service_and_response_time() -> None:
    assert filter_expression(FUNCTION, None, None) == f'service("{FUNCTION}")'
    assert filter_expression(FUNCTION, 0.5, 2.0) == (
        f'service("{FUNCTION}") AND responsetime > 0.5 AND responsetime < 2'
    )
    assert filter_expression(FUNCTION, 0.001, None) == (
        f'service("{FUNCTION}") AND responsetime > 0.001'
    )


def test_aws_gets_the_response_time_in_the_filter_expression(stubbed: Any) -> None:
    aws, stub = stubbed
    found = ids(2)
    destination(stub)
    stub.add_response(
        "get_trace_summaries",
        {"TraceSummaries": [summary(t) for t in found]},
        {
            "StartTime": ANY,
            "EndTime": ANY,
            "Sampling": False,
            "FilterExpression": f'service("{FUNCTION}") AND responsetime > 1 AND '
            "responsetime < 1.5",
        },
    )
    stub.add_response("batch_get_traces", traces_response(found), {"TraceIds": found[::-1]})
    result = service.list_traces(aws, aws.settings, since="1d", duration=(1.0, 1.5))
    assert [(t["id"], t["duration_ms"]) for t in result.to_json()["traces"]] == [
        (found[1], 1160.0),
        (found[0], 1160.0),
    ]


def test_rejected_filter_falls_back_to_the_client_side_range(aws_mock: Any) -> None:
    """moto rejects every FilterExpression: the range is applied to the rows."""
    put_ids = put(aws_mock, ALL)
    result = service.list_traces(aws_mock, aws_mock.settings, since="10m", duration=(0.82, 1.0))
    assert [t["id"] for t in result.to_json()["traces"]] == [put_ids[1]]  # 910 ms; 820 is not > 820
    result = service.list_traces(aws_mock, aws_mock.settings, since="10m", duration=(None, 0.9))
    assert [t["id"] for t in result.to_json()["traces"]] == [put_ids[3], put_ids[2]]


@pytest.mark.slow
def test_cli_min_duration_on_moto(aws_mock: Any) -> None:
    put_ids = put(aws_mock, ALL)
    result = run("traces", "--min-duration", "900ms", "-o", "json")
    assert result.exit_code == 0, result.output
    assert [t["id"] for t in json.loads(result.stdout)["traces"]] == [put_ids[1], put_ids[0]]
    stats = json.loads(run("traces", "--stats", "--max-duration", "1s", "-o", "json").stdout)
    assert stats["count"] == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--min-duration", "500"], "invalid --min-duration '500'"),
        (["--max-duration", "-1s"], "invalid --max-duration '-1s'"),
        (
            ["--min-duration", "2s", "--max-duration", "1s"],
            "--min-duration 2s is not below --max-duration 1s",
        ),
    ],
)
def test_bad_duration_is_a_usage_error(args: list[str], message: str) -> None:
    result = run("traces", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_stats_histogram_json_and_text(aws_mock: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    put(aws_mock, ALL)
    doc = json.loads(run("traces", "--stats", "-o", "json").stdout)
    # the existing keys first and unchanged; the histogram added at the end
    assert list(doc) == ["count", "faults", "errors", "window", "subsegments", "histogram"]
    assert doc["count"] == 4
    bins = doc["histogram"]
    assert len(bins) == 10 and sum(b["count"] for b in bins) == 4
    assert (bins[0]["from_ms"], bins[-1]["to_ms"]) == (431.0, 1160.0)
    assert [b["count"] for b in bins] == [1, 0, 0, 0, 0, 1, 1, 0, 0, 1]
    monkeypatch.setenv("COLUMNS", "100")
    lines = run("traces", "--stats").stdout.splitlines()
    start = lines.index("response time (ms)")
    assert lines[start + 1 :] == [
        "      431 ..     504  ############################## 1",
        "      504 ..     577  0",
        "      577 ..     650  0",
        "      650 ..     723  0",
        "      723 ..     796  0",
        "      796 ..     868  ############################## 1",
        "      868 ..     941  ############################## 1",
        "      941 ..   1,014  0",
        "    1,014 ..   1,087  0",
        "    1,087 ..   1,160  ############################## 1",
    ]
