"""What the Lambda service records about an invocation: CloudWatch log lines, the
`AWS::Lambda` / `AWS::Lambda::Function` X-Ray segments and the `AWS/Lambda` metrics.
Written straight into moto's back ends, synchronously, so they are queryable as soon as
the gateway answers."""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends
from moto.logs.models import logs_backends

from dogxray.local.xray_daemon import store_segment

# Held by the writers here and by the retention sweeper (local/retention.py).
LOGS_LOCK = threading.Lock()
METRICS_LOCK = threading.Lock()
NAMESPACE = "AWS/Lambda"


def new_id() -> str:
    """A 16-hex-digit X-Ray segment / exception id."""
    return secrets.token_hex(8)


def new_trace_id(epoch: float) -> str:
    return f"1-{int(epoch):08x}-{secrets.token_hex(12)}"


@dataclass
class Invocation:
    """One invocation's facts: identity, timing (epoch seconds), outcome."""

    function_name: str
    function_arn: str
    account_id: str
    region: str
    request_id: str
    trace_id: str
    sampled: bool  # the function's SDK records (the `Sampled` it is handed)
    received: float
    recorded: bool = False  # Lambda emits its own segments (Active, sampled)
    upstream_parent: str | None = None  # the caller's segment, from its trace header
    passthrough: bool = False  # untraced PassThrough: the function gets the root alone
    lambda_segment_id: str = field(default_factory=new_id)
    function_segment_id: str = field(default_factory=new_id)
    cold: bool = False
    init_start: float | None = None
    init_end: float | None = None
    invoke_start: float = 0.0
    invoke_end: float = 0.0
    done: float = 0.0
    payload: str | None = None  # the handler's result as JSON text
    error: dict[str, Any] | None = None  # Lambda's error document
    timed_out: bool = False
    log_stream: str = ""
    init_ms: float = 0.0
    duration_ms: float = 0.0  # the handler's own time, as REPORT prints it
    logs: list[tuple[int, str]] = field(default_factory=list)
    throttled: str | None = None  # TooManyRequestsException reason: it never ran
    concurrent: int = 0  # the function's busy environments when it started, this one too

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def trace_header(self) -> str:
        """`_X_AMZN_TRACE_ID` for the function: its own segment as parent when Lambda
        records, the caller's when a PassThrough function joins a sampled caller."""
        if self.passthrough:
            return f"Root={self.trace_id}"
        parent = self.function_segment_id
        if self.sampled and not self.recorded:
            parent = self.upstream_parent or parent
        return f"Root={self.trace_id};Parent={parent};Sampled={1 if self.sampled else 0}"


def write_logs(
    account_id: str, region: str, group: str, stream: str, events: list[tuple[int, str]]
) -> None:
    """Append `(epoch ms, message)` events in order to a stream, creating group and stream."""
    if not events:
        return
    backend = logs_backends[account_id][region]
    ordered, last = [], 0
    for ts, text in events:  # CloudWatch wants chronological order; keep the logical one
        last = max(last, ts)
        ordered.append((last, text))
    with LOGS_LOCK:
        if group not in backend.groups:
            backend.create_log_group(group, {})
        if stream not in backend.groups[group].streams:
            backend.create_log_stream(group, stream)
        backend.put_log_events(
            group, stream, [{"timestamp": ts, "message": text} for ts, text in ordered]
        )


def _cause(error: dict[str, Any]) -> dict[str, Any]:
    stack = [
        {"path": frame["path"], "line": frame["line"], "label": frame["label"]}
        for frame in error.get("frames", [])
    ]
    exception = {
        "id": new_id(),
        "message": error.get("errorMessage", ""),
        "type": error.get("errorType", "Error"),
        "stack": list(reversed(stack)),
    }
    return {"working_directory": "/var/task", "paths": [], "exceptions": [exception]}


def service_segments(inv: Invocation) -> list[dict[str, Any]]:
    """The two segments Lambda records for an invocation (one when it was throttled).

    The `AWS::Lambda` segment records the invoke itself: 429 when Lambda throttled it,
    else 200, even when the function failed or its Function URL answered 502 (the invoke
    succeeded; the function's error is the function's). A function error is a fault,
    with its cause, on the `AWS::Lambda::Function` segment and its `Invocation`
    subsegment (docs/fidelity.md: the sources we found, and what they do not say)."""
    status = 429 if inv.throttled else 200
    lambda_segment: dict[str, Any] = {
        "id": inv.lambda_segment_id,
        "name": inv.function_name,
        "trace_id": inv.trace_id,
        "start_time": inv.received,
        "end_time": inv.done,
        "origin": "AWS::Lambda",
        "resource_arn": inv.function_arn,
        "http": {"response": {"status": status}},
        "aws": {"request_id": inv.request_id},
        **({"error": True, "throttle": True} if inv.throttled else {}),
    }
    if inv.upstream_parent:
        lambda_segment["parent_id"] = inv.upstream_parent
    if inv.throttled:  # Lambda never reached the function: its service segment only
        return [lambda_segment]
    subsegments: list[dict[str, Any]] = []
    if inv.cold and inv.init_start is not None and inv.init_end is not None:
        subsegments.append(_sub("Initialization", inv.init_start, inv.init_end, inv))
    invocation = _sub("Invocation", inv.invoke_start, inv.invoke_end, inv)
    subsegments.append(invocation)
    subsegments.append(_sub("Overhead", inv.invoke_end, inv.done, inv))
    function_segment: dict[str, Any] = {
        "id": inv.function_segment_id,
        "name": inv.function_name,
        "trace_id": inv.trace_id,
        "parent_id": inv.lambda_segment_id,
        "start_time": inv.init_start if inv.cold and inv.init_start else inv.invoke_start,
        "end_time": inv.done,
        "origin": "AWS::Lambda::Function",
        "resource_arn": inv.function_arn,
        "aws": {
            "account_id": inv.account_id,
            "function_arn": inv.function_arn,
            "resource_names": [inv.function_name],
        },
        "subsegments": subsegments,
    }
    if inv.error is not None:
        invocation["fault"] = True
        invocation["cause"] = _cause(inv.error)
        function_segment["fault"] = True
        function_segment["cause"] = _cause(inv.error)
    return [lambda_segment, function_segment]


def _sub(name: str, start: float, end: float, inv: Invocation) -> dict[str, Any]:
    return {
        "id": new_id(),
        "name": name,
        "start_time": start,
        "end_time": max(start, end),
        "aws": {"function_arn": inv.function_arn},
    }


def record_trace(inv: Invocation) -> None:
    """Store the service segments of an invocation Lambda traced in the emulated X-Ray."""
    if not inv.recorded:
        return
    for segment in service_segments(inv):
        store_segment(json.dumps(segment), inv.account_id, inv.region)


def publish_metrics(inv: Invocation) -> None:
    """The `AWS/Lambda` datapoints Lambda publishes for one request (FunctionName
    dimension): a throttle counts in Throttles only, as it is no invocation."""
    when = datetime.fromtimestamp(inv.received, timezone.utc).replace(tzinfo=None)  # moto's
    if inv.throttled:
        points = [("Throttles", 1.0, "Count")]
    else:
        points = [
            ("Invocations", 1.0, "Count"),
            ("Errors", 0.0 if inv.ok else 1.0, "Count"),
            ("Duration", inv.duration_ms, "Milliseconds"),
            ("ConcurrentExecutions", float(inv.concurrent), "Count"),
        ]
    dimensions = [{"Name": "FunctionName", "Value": inv.function_name}]
    data = [
        {
            "MetricName": name,
            "Value": value,
            "Unit": unit,
            "Timestamp": when,
            "Dimensions": dimensions,
        }
        for name, value, unit in points
    ]
    with METRICS_LOCK:
        cloudwatch_backends[inv.account_id][inv.region].put_metric_data(NAMESPACE, data)
