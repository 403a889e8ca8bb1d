"""`analyze` fits the terminal (issue 15, item 23): with a long exception message (an
ARN in an AccessDenied) every line is within COLUMNS=80, wrapped with hanging indents;
`--output json` keeps the message whole."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from typer.testing import CliRunner

from dogxray.app import app
from tests.traces.test_analyze import HIT, MESSAGE, lab_trace

LONG = (
    "User: arn:aws:sts::123456789012:assumed-role/dog-photo-function-role-us-east-1/"
    "dog-photo-function is not authorized to perform: s3:PutObject on resource: "
    '"arn:aws:s3:::lovely-dogs-123456789012-us-east-1/golden-retriever/n02099601_3004.jpg" '
    "because no identity-based policy allows the s3:PutObject action"
)


def _put(aws_mock: Any) -> None:
    base = float(int(time.time()) - 120)
    xray = aws_mock.client("xray")
    for n in range(10):
        _, docs = lab_trace(n, injected=n in HIT, embedded=n % 2 == 0, base=base)
        xray.put_trace_segments(
            TraceSegmentDocuments=[
                json.dumps(d).replace(MESSAGE, json.dumps(LONG)[1:-1]) for d in docs
            ]
        )


@pytest.mark.slow
def test_analyze_fits_80_columns_and_json_keeps_the_message(
    aws_mock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _put(aws_mock)
    monkeypatch.setenv("COLUMNS", "80")
    result = CliRunner().invoke(app, ["analyze"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line for line in lines if len(line) > 80] == []
    assert lines[0].startswith("10 traces of dog-photo-function from ")
    assert lines[1].startswith("  ")  # the window's end, under the first line
    at = next(i for i, line in enumerate(lines) if line.startswith("  InjectedFailure on "))
    assert all(line.startswith("     ") for line in lines[at + 1 :])  # hanging indent
    newest = next(i for i, line in enumerate(lines) if line.startswith("     newest: "))
    assert lines[newest + 1].startswith(" " * 13 + "1-")  # trace ids under trace ids
    flat = " ".join(line.strip() for line in lines)
    assert "because no identity-based policy allows the s3:PutObject action" in flat

    doc = json.loads(CliRunner().invoke(app, ["analyze", "--output", "json"]).stdout)
    assert doc["faulty"]["exceptions"][0]["message"] == LONG


@pytest.mark.slow
def test_one_trace_is_singular(aws_mock: Any) -> None:
    _, docs = lab_trace(0, injected=False, embedded=True, base=float(int(time.time()) - 60))
    aws_mock.client("xray").put_trace_segments(TraceSegmentDocuments=[json.dumps(d) for d in docs])
    result = CliRunner().invoke(app, ["analyze"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("1 trace of dog-photo-function from ")
