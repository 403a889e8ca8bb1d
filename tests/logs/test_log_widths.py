"""`logs` and the log lines under `trace` fit the terminal (issue 15, item 23): long
exception messages with ARNs, a logged URL, a traceback — every line within COLUMNS=80,
wrapped under the message column; `--output json` keeps every value whole."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from typer.testing import CliRunner

from dogxray.app import app
from tests.logs.lambdalogs import put
from tests.traces.tracedocs import load, rebase

ROLE = "arn:aws:sts::123456789012:assumed-role/dog-photo-function-role-us-east-1/dog-photo-function"
DENIED = (
    f"AccessDenied: User: {ROLE} is not authorized to perform: s3:PutObject on resource: "
    '"arn:aws:s3:::lovely-dogs-123456789012-us-east-1/golden-retriever/n02099601_3004.jpg" '
    "because no identity-based policy allows the s3:PutObject action"
)
PHOTO_URL = "https://images.dog.ceo/breeds/retriever-golden/n02099601_3004.jpg"


def lines(request_id: str) -> list[str]:
    """One failed invocation as Lambda logs it, with long values everywhere."""
    app_line = {
        "request_id": request_id,
        "cold_start": False,
        "timings_ms": {"dog_api": 1120.5, "image": 880.25, "save": 35.5, "total": 2036.25},
        "key": "golden-retriever/n02099601_3004.jpg",
        "breed": "golden-retriever",
        "bytes": 1_482_213,
        "outcome": "error",
        "error": DENIED,
    }
    return [
        f"START RequestId: {request_id} Version: $LATEST",
        f"fetching {PHOTO_URL} for the breed golden-retriever (attempt 1 of 3, timeout 5 s)",
        json.dumps(app_line),
        f"[ERROR] ClientError: {DENIED}\r"
        "Traceback (most recent call last):\r"
        '  File "/var/task/lambda_function.py", line 201, in lambda_handler\r'
        "    S3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)\r"
        '  File "/var/lang/lib/python3.13/site-packages/botocore/client.py", line 1023, '
        "in _make_api_call\r"
        "    raise error_class(parsed_response, operation_name)",
        f"END RequestId: {request_id}",
        f"REPORT RequestId: {request_id}\tDuration: 2036.25 ms\tBilled Duration: 2037 ms\t"
        "Memory Size: 10240 MB\tMax Memory Used: 1024 MB\tInit Duration: 1250.12 ms\t",
    ]


def over(text: str, columns: int) -> list[str]:
    """Lines wider than `columns`, except a URL alone on its line (never cut)."""
    return [
        line for line in text.splitlines() if len(line) > columns and not line.startswith("https:")
    ]


@pytest.mark.slow
def test_logs_fit_80_columns_and_json_keeps_the_messages(
    aws_mock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rid = "c0ffee00-1111-2222-3333-444455556666"
    put(aws_mock.client("logs"), "s", lines(rid), start_ms=int(time.time() * 1000) - 5000)
    monkeypatch.setenv("COLUMNS", "80")
    text = CliRunner().invoke(app, ["logs"])
    assert text.exit_code == 0, text.output
    assert over(text.stdout, 80) == []
    assert len(text.stdout.splitlines()) > 12  # wrapped, not dropped
    flat = " ".join(line.strip() for line in text.stdout.splitlines())
    assert "because no identity-based policy allows the s3:PutObject action" in flat
    last = text.stdout.splitlines()[-1]
    assert last == "1 invocation, 1 failed  (/aws/lambda/dog-photo-function)"

    doc = json.loads(CliRunner().invoke(app, ["logs", "--output", "json"]).stdout)
    messages = [e["message"] for e in doc["events"]]
    assert any(PHOTO_URL in m for m in messages)
    assert any(DENIED in m for m in messages)
    assert doc["invocations"][0]["error"] == DENIED


def test_log_lines_under_trace_fit_80_columns(
    aws_mock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = time.time() - 30
    trace_id, docs = rebase(load("fault_separate"), start=start, serial=11)
    aws_mock.client("xray").put_trace_segments(TraceSegmentDocuments=docs)
    request_id = json.loads(docs[0])["aws"]["request_id"]
    put(aws_mock.client("logs"), "s", lines(request_id), start_ms=int(start * 1000) + 100)
    monkeypatch.setenv("COLUMNS", "80")
    result = CliRunner().invoke(app, ["trace", trace_id])
    assert result.exit_code == 0, result.output
    assert f"log lines of request {request_id}:" in result.stdout.splitlines()
    assert over(result.stdout, 80) == []
    assert "s3:PutObject action" in result.stdout
