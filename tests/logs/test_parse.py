"""Pure parsing of Lambda log lines, attribution to invocations, and the text lines."""

from __future__ import annotations

import json
from typing import Any

from dogxray.monitor.logparse import LogParser, invocations, parse_message, select
from dogxray.render.logs import lines
from tests.logs.lambdalogs import invocation

RID = "c0ffee00-1111-2222-3333-444455556666"
RID2 = "decade00-1111-2222-3333-444455556666"
TRACE = "1-69248101-0000000000005a17c0de0001"


def test_start_end() -> None:
    assert parse_message(f"START RequestId: {RID} Version: $LATEST\n") == {
        "kind": "start",
        "request_id": RID,
        "fields": {"version": "$LATEST"},
    }
    assert parse_message(f"END RequestId: {RID}") == {
        "kind": "end",
        "request_id": RID,
        "fields": {},
    }


def test_report_with_init_and_xray() -> None:
    line = (
        f"REPORT RequestId: {RID}\tDuration: 12.34 ms\tBilled Duration: 13 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 70 MB\tInit Duration: 250.12 ms\t\n"
        f"XRAY TraceId: {TRACE}\tSegmentId: f000000000000001\tSampled: true\t"
    )
    assert parse_message(line) == {
        "kind": "report",
        "request_id": RID,
        "fields": {
            "duration_ms": 12.34,
            "billed_ms": 13.0,
            "memory_mb": 128,
            "max_memory_mb": 70,
            "init_ms": 250.12,
            "trace_id": TRACE,
            "status": None,
        },
    }


def test_report_warm_and_timeout_status() -> None:
    fields = parse_message(
        f"REPORT RequestId: {RID}\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 60 MB\tStatus: timeout"
    )["fields"]
    assert fields["init_ms"] is None and fields["trace_id"] is None
    assert fields["status"] == "timeout" and fields["duration_ms"] == 3000.0


def test_app_json_line() -> None:
    doc = {"request_id": RID, "outcome": "ok", "status": 200, "breed": "husky"}
    assert parse_message(json.dumps(doc)) == {
        "kind": "app",
        "request_id": RID,
        "fields": {"app": doc},
    }


def test_unhandled_error_with_traceback_joined_by_cr() -> None:
    parsed = parse_message(
        "[ERROR] NoSuchBucket: The specified bucket does not exist\r"
        "Traceback (most recent call last):\r"
        '  File "/var/task/lambda_function.py", line 201, in lambda_handler'
    )
    assert parsed == {
        "kind": "error",
        "request_id": None,
        "fields": {
            "error_type": "NoSuchBucket",
            "error_message": "The specified bucket does not exist",
            "traceback": [
                "Traceback (most recent call last):",
                '  File "/var/task/lambda_function.py", line 201, in lambda_handler',
            ],
        },
    }


def test_error_document_and_timeout_and_logging_lines() -> None:
    doc = {"errorMessage": "boom", "errorType": "ValueError", "requestId": RID, "stackTrace": []}
    assert parse_message(json.dumps(doc))["fields"] == {
        "error_type": "ValueError",
        "error_message": "boom",
        "traceback": [],
    }
    assert parse_message(json.dumps(doc))["request_id"] == RID
    timeout = parse_message(f"2026-01-31T09:00:03.000Z {RID} Task timed out after 3.00 seconds")
    assert (timeout["kind"], timeout["request_id"]) == ("error", RID)
    assert timeout["fields"]["error_type"] == "Sandbox.Timedout"
    info = parse_message(f"[INFO]\t2026-01-31T09:00:00.000Z\t{RID}\tsaved the dog")
    assert info == {"kind": "other", "request_id": RID, "fields": {"level": "INFO"}}
    assert parse_message(f"[ERROR]\t2026-01-31T09:00:00.000Z\t{RID}\tbad")["kind"] == "error"
    assert parse_message("INIT_START Runtime Version: python:3.13") == {
        "kind": "other",
        "request_id": None,
        "fields": {},
    }
    assert parse_message("{not json")["kind"] == "other"


def raw(stream: str, messages: list[str], start: int = 1_764_000_000_000) -> list[dict[str, Any]]:
    return [
        {"logStreamName": stream, "timestamp": start + i, "message": m, "eventId": f"{stream}{i}"}
        for i, m in enumerate(messages)
    ]


def test_lines_without_request_id_belong_to_their_streams_invocation() -> None:
    a = raw("a", invocation(RID, failed=True, cold=True, trace_id=TRACE))
    b = raw("b", invocation(RID2))
    events = LogParser().feed([a[0], b[0], a[1], b[1], a[2], a[3], b[2], b[3], *a[4:], *b[4:]])
    by_kind = {(e["stream"], e["kind"]): e["request_id"] for e in events}
    assert by_kind[("a", "other")] == RID  # INIT_START before START: the cold invocation
    assert by_kind[("a", "error")] == RID  # [ERROR] carries no id
    assert all(e["request_id"] == RID2 for e in events if e["stream"] == "b")
    summaries = {inv["request_id"]: inv for inv in invocations(events)}
    failed = summaries[RID]
    assert failed["failed"] and failed["cold_start"] and failed["init_ms"] == 250.12
    assert failed["trace_id"] == TRACE and failed["lines"] == 6
    assert failed["error"] == "NoSuchBucket: The specified bucket does not exist"
    assert not summaries[RID2]["failed"] and summaries[RID2]["status"] == 200


def test_failure_rules() -> None:
    def failed(app: dict[str, Any], extra: list[str] = ()) -> bool:
        lines_ = [f"START RequestId: {RID}", json.dumps({"request_id": RID, **app}), *extra]
        return invocations(LogParser().feed(raw("s", lines_)))[0]["failed"]

    assert not failed({"outcome": "ok", "status": 200})
    assert not failed({"outcome": "redirect", "status": 302})
    assert failed({"outcome": "dog_api_error", "status": 502})
    assert failed({"status": 503})
    assert failed({}, ["[ERROR] KeyError: 'BUCKET_NAME'"])
    assert failed({}, [f"REPORT RequestId: {RID}\tDuration: 1.00 ms\tStatus: timeout"])


def test_select_errors_and_request_id() -> None:
    events = LogParser().feed(raw("a", invocation(RID, failed=True) + invocation(RID2)))
    only, summaries = select(events, errors_only=True)
    assert {e["request_id"] for e in only} == {RID} and [s["request_id"] for s in summaries] == [
        RID
    ]
    one, summaries = select(events, request_id=RID2)
    assert len(one) == 4 and [s["request_id"] for s in summaries] == [RID2]


def test_text_lines_exact() -> None:
    events = LogParser().feed(raw("a", invocation(RID, failed=True, cold=True, trace_id=TRACE)))
    assert list(lines(events)) == [
        "2025-11-24 16:00:00.000  c0ffee00  INIT_START Runtime Version: python:3.13.v16",
        "2025-11-24 16:00:00.002  c0ffee00  ERROR  husky  husky/n02110185_1469.jpg  48,213 B  "
        "dog_api 120.5 ms  image 80.2 ms  total 12.3 ms  "
        "error: NoSuchBucket: The specified bucket does not exist",
        "2025-11-24 16:00:00.003  c0ffee00  [ERROR] NoSuchBucket: "
        "The specified bucket does not exist",
        "                                     Traceback (most recent call last):",
        '                                       File "/var/task/lambda_function.py", line 201, '
        "in lambda_handler",
        "                                         S3.put_object(Bucket=bucket, Key=key, Body=body)",
        "2025-11-24 16:00:00.005  c0ffee00  REPORT 12.3 ms  billed 13 ms  memory 70/128 MB  "
        "init 250.1 ms",
    ]
