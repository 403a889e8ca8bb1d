"""Lambda-shaped log lines for tests (a module name unique across tests/)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

GROUP = "/aws/lambda/dog-photo-function"


def invocation(
    request_id: str,
    *,
    failed: bool = False,
    cold: bool = False,
    trace_id: str | None = None,
    duration: float = 12.34,
) -> list[str]:
    """The lines one invocation writes: START, the function's JSON line, an unhandled
    error when `failed`, END, REPORT."""
    lines = []
    if cold:
        lines.append("INIT_START Runtime Version: python:3.13.v16")
    lines.append(f"START RequestId: {request_id} Version: $LATEST")
    app: dict[str, Any] = {
        "request_id": request_id,
        "trace_id": trace_id,
        "cold_start": cold,
        "timings_ms": {"dog_api": 120.5, "image": 80.25, "total": duration},
        "key": "husky/n02110185_1469.jpg",
        "breed": "husky",
        "bytes": 48213,
    }
    if failed:
        app.update(outcome="error", error="NoSuchBucket: The specified bucket does not exist")
    else:
        app.update(status=200, outcome="ok")
    lines.append(json.dumps(app))
    if failed:
        lines.append(
            "[ERROR] NoSuchBucket: The specified bucket does not exist\r"
            "Traceback (most recent call last):\r"
            '  File "/var/task/lambda_function.py", line 201, in lambda_handler\r'
            "    S3.put_object(Bucket=bucket, Key=key, Body=body)\r"
            "    ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^"
        )
    lines.append(f"END RequestId: {request_id}")
    report = (
        f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\t"
        f"Billed Duration: {int(duration) + 1} ms\tMemory Size: 128 MB\tMax Memory Used: 70 MB"
    )
    if cold:
        report += "\tInit Duration: 250.12 ms"
    if trace_id:
        report += f"\tXRAY TraceId: {trace_id}\tSegmentId: f000000000000001\tSampled: true"
    lines.append(report + "\t")
    return lines


def put(client: Any, stream: str, lines: list[str], *, start_ms: int, group: str = GROUP) -> None:
    """Write lines 1 ms apart into a stream (created, with the group, when missing)."""
    with contextlib.suppress(client.exceptions.ResourceAlreadyExistsException):
        client.create_log_group(logGroupName=group)
    with contextlib.suppress(client.exceptions.ResourceAlreadyExistsException):
        client.create_log_stream(logGroupName=group, logStreamName=stream)
    client.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": start_ms + i, "message": m} for i, m in enumerate(lines)],
    )
