"""X-Ray's rules, written once (dogxray/traces/rules.py), and both the client's service
map and the emulator's X-Ray use them: a status from the flags and HTTP status, and the
node a downstream call names."""

from __future__ import annotations

from typing import Any

import pytest

from dogxray.local import xray_service
from dogxray.traces import graph, rules
from dogxray.traces.model import build_trace


@pytest.mark.parametrize(
    ("fault", "error", "throttle", "http", "expected"),
    [
        (False, False, False, 200, "ok"),
        (False, False, False, None, "ok"),
        (True, False, False, 200, "fault"),
        (False, False, False, 502, "fault"),
        (False, False, True, None, "throttle"),
        (False, False, False, 429, "throttle"),
        (False, True, False, None, "error"),
        (False, False, False, 404, "error"),
        (False, False, False, 403, "error"),
        (False, True, True, 429, "throttle"),
        (False, True, False, 500, "fault"),  # the status decides above a lesser flag
        (True, False, True, 429, "fault"),  # fault first
    ],
)
def test_status(fault: bool, error: bool, throttle: bool, http: int | None, expected: str) -> None:
    assert rules.status(fault, error, throttle, http) == expected


@pytest.mark.parametrize(
    ("namespace", "name", "aws", "expected"),
    [
        ("aws", "S3", {"bucket_name": "dogs"}, ("dogs", "AWS::S3::Bucket")),
        ("aws", "s3", {"operation": "ListBuckets"}, ("S3", "AWS::S3")),
        ("aws", "Amazon S3", {"bucket_name": "dogs"}, ("dogs", "AWS::S3::Bucket")),
        ("aws", "DynamoDB", {"table_name": "visits"}, ("visits", "AWS::DynamoDB::Table")),
        ("aws", "dynamodb", {}, ("DynamoDB", "AWS::DynamoDB")),
        ("aws", "sqs", {"queue_url": "https://q"}, ("SQS", "AWS::SQS")),
        ("aws", "Rekognition", {}, ("Rekognition", "AWS::Rekognition")),
        ("remote", "dog.ceo", {}, ("dog.ceo", "remote")),
        (None, "dog.ceo", {}, ("dog.ceo", "remote")),
    ],
)
def test_downstream(
    namespace: str | None, name: str, aws: dict[str, Any], expected: tuple[str, str]
) -> None:
    assert rules.downstream(namespace, name, aws) == expected


def _sub(name: str, namespace: str, aws: dict[str, Any], **flags: Any) -> dict[str, Any]:
    return {
        "id": "b" * 16,
        "name": name,
        "namespace": namespace,
        "start_time": 1.0,
        "end_time": 1.2,
        "aws": aws,
        **flags,
    }


@pytest.mark.parametrize(
    "sub",
    [
        _sub("DynamoDB", "aws", {"table_name": "visits"}),
        _sub("S3", "aws", {"bucket_name": "dogs"}, error=True),
        _sub("dog.ceo", "remote", {}, http={"response": {"status": 503}}),
    ],
)
def test_the_client_and_the_emulator_name_and_classify_a_call_alike(sub: dict[str, Any]) -> None:
    """The same subsegment, read by the client's map and by the emulator's X-Ray."""
    import json

    function = {
        "id": "a" * 16,
        "trace_id": "1-5f000000-000000000000000000000001",
        "name": "dog-photo-function",
        "origin": "AWS::Lambda::Function",
        "start_time": 1.0,
        "end_time": 2.0,
        "subsegments": [sub],
    }
    trace = build_trace(function["trace_id"], [json.dumps(function)])
    call = next(n for n, _ in trace.walk() if n.name == sub["name"])
    assert graph.downstream_key(call) == xray_service.downstream(sub)
    assert xray_service._status(sub) == rules.status(
        bool(sub.get("fault")),
        bool(sub.get("error")),
        bool(sub.get("throttle")),
        (sub.get("http") or {}).get("response", {}).get("status"),
    )


@pytest.mark.parametrize(
    ("recorded", "expected"),
    [
        ("NoSuchBucket", "NoSuchBucket"),  # the X-Ray SDK: the class's name
        ("botocore.errorfactory.NoSuchBucket", "NoSuchBucket"),  # OpenTelemetry: module too
        ("injection.InjectedFailure", "InjectedFailure"),
    ],
)
def test_exception_class(recorded: str, expected: str) -> None:
    assert rules.exception_class(recorded) == expected
