"""`logs` against in-process moto: pagination, follow, request-id and trace correlation,
a missing log group, and the CLI's exact output."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Any

import pytest
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.core.config import Settings
from dogxray.monitor import logs
from tests.logs.lambdalogs import GROUP, invocation, put
from tests.traces.tracedocs import load, rebase

SETTINGS = Settings.from_options(region="us-east-1")
RIDS = [f"c0ffee{i:02d}-1111-2222-3333-444455556666" for i in range(6)]


def now_ms() -> int:
    return int(time.time() * 1000)


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_paginated_read_returns_every_invocation_in_order(aws_mock: Any) -> None:
    client = aws_mock.client("logs")
    base = now_ms() - 120_000
    for i, rid in enumerate(RIDS):  # 6 invocations x 4 lines + 1 error line, two streams
        put(client, f"stream-{i % 2}", invocation(rid, failed=i == 3), start_ms=base + i * 1000)
    result = logs.read_logs(aws_mock, SETTINGS, since="10m", page_limit=4).to_json()
    assert [inv["request_id"] for inv in result["invocations"]] == RIDS
    assert len(result["events"]) == 25
    stamps = [e["timestamp"] for e in result["events"]]
    assert stamps == sorted(stamps)  # newest last
    assert [inv["failed"] for inv in result["invocations"]] == [False] * 3 + [True] + [False] * 2
    pages = list(logs.raw_events(client, GROUP, base, page_limit=4))
    assert len(pages) == 25  # 7 pages of at most 4, joined


def test_paging_really_uses_several_calls(aws_mock: Any) -> None:
    client = aws_mock.client("logs")
    put(client, "s", invocation(RIDS[0]), start_ms=now_ms() - 60_000)
    seen: list[int] = []
    client.meta.events.register(
        "after-call.cloudwatch-logs.FilterLogEvents",
        lambda parsed, **_: seen.append(len(parsed.get("events") or [])),
    )
    assert len(list(logs.raw_events(client, GROUP, 0, page_limit=2))) == 4
    assert seen[:2] == [2, 2] and sum(seen) == 4


def test_errors_and_request_id(aws_mock: Any) -> None:
    client = aws_mock.client("logs")
    base = now_ms() - 60_000
    for i, rid in enumerate(RIDS[:3]):
        put(client, "s", invocation(rid, failed=i == 1), start_ms=base + i * 100)
    errors = logs.read_logs(aws_mock, SETTINGS, errors_only=True).to_json()
    assert [inv["request_id"] for inv in errors["invocations"]] == [RIDS[1]]
    assert {e["request_id"] for e in errors["events"]} == {RIDS[1]}
    assert [e["kind"] for e in errors["events"]] == ["start", "app", "error", "end", "report"]
    one = logs.read_logs(aws_mock, SETTINGS, request_id=RIDS[2]).to_json()
    assert [e["kind"] for e in one["events"]] == ["start", "app", "end", "report"]


def test_trace_finds_its_invocation_through_the_lambda_segment(aws_mock: Any) -> None:
    recording = load("fault_separate")  # AWS::Lambda segment: aws.request_id c0ffee00-...
    start = time.time() - 30
    trace_id, docs = rebase(recording, start=start, serial=7)
    aws_mock.client("xray").put_trace_segments(TraceSegmentDocuments=docs)
    request_id = json.loads(docs[0])["aws"]["request_id"]
    client = aws_mock.client("logs")
    put(client, "s", invocation(RIDS[1]), start_ms=int(start * 1000) - 20_000)  # earlier
    put(client, "s", invocation(request_id, failed=True), start_ms=int(start * 1000) + 100)
    put(client, "t", invocation(RIDS[2]), start_ms=int(start * 1000) + 200)  # same moment
    result = logs.read_logs(aws_mock, SETTINGS, trace_id=trace_id).to_json()
    assert {e["request_id"] for e in result["events"]} == {request_id}
    assert len(result["events"]) == 5 and result["invocations"][0]["failed"]


@pytest.mark.slow
def test_trace_unknown_and_request_without_lines_fail(aws_mock: Any) -> None:
    put(aws_mock.client("logs"), "s", invocation(RIDS[0]), start_ms=now_ms() - 1000)
    missing = cli("logs", "--trace", "1-69248101-0000000000005a17c0de0999")
    assert missing.exit_code == 1
    assert "error: trace 1-69248101-0000000000005a17c0de0999 not found" in missing.stderr
    nothing = cli("logs", "--request-id", "nope")
    assert nothing.exit_code == 1 and "no log lines of request nope" in nothing.stderr


@pytest.mark.slow
def test_follow_prints_only_new_events_between_polls(aws_mock: Any) -> None:
    client = aws_mock.client("logs")
    base = now_ms() - 30_000
    put(client, "s", invocation(RIDS[0]), start_ms=base)
    batches: list[list[dict[str, Any]]] = []
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:  # new lines arrive while we wait
        sleeps.append(seconds)
        if len(sleeps) == 1:
            put(client, "s", invocation(RIDS[1]), start_ms=base + 1000)
        if len(sleeps) == 3:
            put(client, "t", invocation(RIDS[2], failed=True), start_ms=base + 2000)

    polls = logs.follow(aws_mock, SETTINGS, batches.append, sleep=sleep, max_polls=4, page_limit=3)
    assert polls == 4 and sleeps == [2.0, 2.0, 2.0]
    assert [{e["request_id"] for e in b} for b in batches] == [{RIDS[0]}, {RIDS[1]}, {RIDS[2]}]
    ids = [e["event_id"] for b in batches for e in b]
    assert len(ids) == len(set(ids)) == 13  # 4 + 4 + 5 lines, nothing twice
    assert len(batches[0]) == 4


def test_follow_errors_waits_for_the_report_and_missing_group_waits(aws_mock: Any) -> None:
    client = aws_mock.client("logs")
    notes: list[str] = []
    batches: list[list[dict[str, Any]]] = []

    def sleep(_: float) -> None:
        if not batches and len(notes) == 1:
            put(
                client,
                "s",
                invocation(RIDS[0]) + invocation(RIDS[1], failed=True),
                start_ms=now_ms() - 5000,
            )

    logs.follow(
        aws_mock,
        SETTINGS,
        batches.append,
        errors_only=True,
        sleep=sleep,
        max_polls=3,
        note=notes.append,
    )
    assert len(notes) == 1 and "nothing deployed" in notes[0]
    assert [{e["request_id"] for e in b} for b in batches] == [{RIDS[1]}]


@pytest.mark.slow
def test_cli_text_exact(aws_mock: Any) -> None:
    start = (now_ms() // 60_000 - 2) * 60_000  # a whole minute, two minutes ago
    client = aws_mock.client("logs")
    put(client, "s", invocation(RIDS[0], cold=True), start_ms=start)
    put(client, "s", invocation(RIDS[1], failed=True), start_ms=start + 1000)
    result = cli("logs", "--since", "5m")
    day = datetime.fromtimestamp(start / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"{day}:00.000  c0ffee00  INIT_START Runtime Version: python:3.13.v16",
        f"{day}:00.002  c0ffee00  ok  200  husky  husky/n02110185_1469.jpg  48,213 B  "
        "dog_api 120.5 ms  image 80.2 ms",
        "                                     total 12.3 ms",  # wrapped at COLUMNS=120
        f"{day}:00.004  c0ffee00  REPORT 12.3 ms  billed 13 ms  memory 70/128 MB  init 250.1 ms",
        f"{day}:01.001  c0ffee01  ERROR  husky  husky/n02110185_1469.jpg  48,213 B  "
        "dog_api 120.5 ms  image 80.2 ms",
        "                                     total 12.3 ms  "
        "error: NoSuchBucket: The specified bucket does not exist",
        f"{day}:01.002  c0ffee01  [ERROR] NoSuchBucket: The specified bucket does not exist",
        "                                     Traceback (most recent call last):",
        '                                       File "/var/task/lambda_function.py", line 201, '
        "in lambda_handler",
        "                                         S3.put_object(Bucket=bucket, Key=key, Body=body)",
        f"{day}:01.004  c0ffee01  REPORT 12.3 ms  billed 13 ms  memory 70/128 MB",
        "2 invocations, 1 failed  (/aws/lambda/dog-photo-function)",
    ]


EVENT_KEYS = {"time", "timestamp", "event_id", "stream", "request_id", "kind", "message", "fields"}
INVOCATION_KEYS = {
    "request_id",
    "start",
    "end",
    "duration_ms",
    "billed_ms",
    "memory_mb",
    "max_memory_mb",
    "init_ms",
    "cold_start",
    "trace_id",
    "outcome",
    "status",
    "breed",
    "key",
    "bytes",
    "timings_ms",
    "error",
    "lines",
    "failed",
}


@pytest.mark.slow
def test_cli_json_shape(aws_mock: Any) -> None:
    put(aws_mock.client("logs"), "s", invocation(RIDS[0], cold=True), start_ms=now_ms() - 5000)
    result = cli("logs", "--output", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert set(doc) == {"log_group", "window", "events", "invocations"}
    assert doc["log_group"] == GROUP and set(doc["window"]) == {"start", "end"}
    assert all(set(e) == EVENT_KEYS for e in doc["events"])
    assert [e["kind"] for e in doc["events"]] == ["other", "start", "app", "end", "report"]
    [inv] = doc["invocations"]
    assert set(inv) == INVOCATION_KEYS
    assert (inv["duration_ms"], inv["billed_ms"], inv["init_ms"], inv["cold_start"]) == (
        12.34,
        13.0,
        250.12,
        True,
    )


def test_missing_log_group_is_a_note_and_exit_0(aws_mock: Any) -> None:
    result = cli("logs", "--output", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["events"] == []
    assert result.stderr == (
        "note: nothing deployed: no function dog-photo-function in us-east-1; run `dogxray setup`\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday"], "invalid --since 'yesterday'"),
        (["--trace", "abc"], "invalid trace id 'abc'"),
        (["--trace", "1-69248101-0000000000005a17c0de0001", "--follow"], "does not combine"),
        (["--request-id", " "], "--request-id is empty"),
    ],
)
def test_bad_input_exits_2(args: list[str], message: str) -> None:
    result = cli("logs", *args)
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.output


@pytest.mark.slow
def test_trace_prints_its_log_lines_under_the_waterfall(aws_mock: Any) -> None:
    start = time.time() - 30
    trace_id, docs = rebase(load("fault_separate"), start=start, serial=9)
    aws_mock.client("xray").put_trace_segments(TraceSegmentDocuments=docs)
    request_id = json.loads(docs[0])["aws"]["request_id"]
    quiet = cli("trace", trace_id)  # no log group yet: the waterfall, and a note
    assert quiet.exit_code == 0 and "log lines" not in quiet.stdout
    assert quiet.stderr.startswith("note: no log lines:")
    client = aws_mock.client("logs")
    first_ms = int(start * 1000) + 100
    put(client, "s", invocation(request_id, failed=True), start_ms=first_ms)
    put(client, "t", invocation(RIDS[2]), start_ms=first_ms)  # another request, same time
    result = cli("trace", trace_id)
    assert result.exit_code == 0, result.output
    when = datetime.fromtimestamp(first_ms / 1000, timezone.utc)
    stamp = when.strftime("%Y-%m-%d %H:%M:%S.") + f"{first_ms % 1000:03d}"[:3]
    tail = result.stdout.splitlines()[-9:]  # the app line wraps at COLUMNS=120
    assert tail[:2] == ["", f"log lines of request {request_id}:"]
    assert tail[2].startswith(f"{stamp[:-3]}") and "c0ffee00  ERROR  husky" in tail[2]
    assert tail[3].endswith(
        "total 12.3 ms  error: NoSuchBucket: The specified bucket does not exist"
    )
    assert "[ERROR] NoSuchBucket: The specified bucket does not exist" in tail[4]
    assert tail[-1].endswith("c0ffee00  REPORT 12.3 ms  billed 13 ms  memory 70/128 MB")
    assert RIDS[2][:8] not in result.stdout and result.stderr == ""


def test_cli_follow_streams_until_ctrl_c(aws_mock: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    client = aws_mock.client("logs")
    base = now_ms() - 10_000
    put(client, "s", invocation(RIDS[0]), start_ms=base)
    naps: list[float] = []

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 1:
            put(client, "s", invocation(RIDS[1], failed=True), start_ms=base + 1000)
        elif len(naps) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(logs, "_sleep", sleep)
    result = cli("logs", "--follow", "--output", "json")
    assert result.exit_code == 0 and result.stderr == ""
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(e["request_id"], e["kind"]) for e in lines] == [
        (RIDS[0], "start"),
        (RIDS[0], "app"),
        (RIDS[0], "end"),
        (RIDS[0], "report"),
        (RIDS[1], "start"),
        (RIDS[1], "app"),
        (RIDS[1], "error"),
        (RIDS[1], "end"),
        (RIDS[1], "report"),
    ]
    assert naps == [2.0, 2.0, 2.0]
