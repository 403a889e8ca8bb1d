"""`analyze` and throttles: a request Lambda refused (HTTP 429, its service segment
only) is a cause of its own, apart from failures and from the slow split, named with
the reserved or account concurrency behind it (moto, a botocore Stubber, exact output)."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

import pytest
from typer.testing import CliRunner

from dogxray.traces.model import build_trace
from dogxray.triage import analyze as triage
from dogxray.triage.compare import compare, profile
from dogxray.triage.results import Analysis, Concurrency
from tests.traces.test_analyze import HIT, T0, lab_trace


def throttled_trace(n: int, base: float = T0) -> tuple[str, list[dict[str, Any]]]:
    """What Lambda records for a request it throttled: its service segment only (the
    function never ran), HTTP 429, `error` and `throttle` set."""
    tid = f"1-{int(base) + n:08x}-{n:024x}"
    return tid, [
        {
            "id": f"{n:04x}0000000svc",
            "trace_id": tid,
            "name": "dog-photo-function",
            "origin": "AWS::Lambda",
            "start_time": base + n,
            "end_time": base + n + 0.001,
            "http": {"response": {"status": 429}},
            "error": True,
            "throttle": True,
        }
    ]


THROTTLED = {1, 3, 6, 9}


def mixed_traces(base: float = T0) -> list[tuple[str, list[dict[str, Any]]]]:
    """Ten requests: three hit by the injected failure, four throttled, three ok."""
    return [
        throttled_trace(n, base)
        if n in THROTTLED
        else lab_trace(n, injected=n in HIT, embedded=n % 2 == 0, base=base)
        for n in range(10)
    ]


def test_throttles_are_counted_apart_from_failures() -> None:
    """... and from the slow/normal split: a request that never ran has no duration of
    its own (four 1 ms throttles would halve the median)."""
    doc = compare([profile(build_trace(*t)) for t in mixed_traces()]).to_json()
    assert (doc["slow"]["count"], doc["slow"]["others"]) == (3, 3)
    assert doc["slow"]["median_ms"] == 24.0
    assert (doc["faulty"]["count"], doc["faulty"]["others"]) == (3, 3)
    assert [o["node"] for o in doc["faulty"]["origins"]] == ["injected_fault"]
    throttled = doc["throttled"]
    assert throttled["count"] == 4 and throttled["lambda"] == 4
    assert throttled["nodes"] == [{"node": "dog-photo-function (AWS::Lambda)", "count": 4}]
    assert throttled["examples"] == [f"1-{int(T0) + n:08x}-{n:024x}" for n in (9, 6, 3)]


def test_a_fault_after_a_downstream_throttle_is_a_failure() -> None:
    """A throttled call the handler does not survive: the request failed (5xx)."""
    tid, docs = lab_trace(0, injected=False, embedded=True)
    docs[1]["fault"] = True
    docs[1]["subsegments"][0]["subsegments"][1].update(
        throttle=True, error=True, http={"response": {"status": 429}}
    )
    doc = compare([profile(build_trace(tid, docs))]).to_json()
    assert (doc["faulty"]["count"], doc["throttled"]["count"]) == (1, 0)


@pytest.mark.slow
def test_through_moto_with_the_functions_reserved_concurrency(aws_mock: Any) -> None:
    """The traces from moto's X-Ray; the reserved concurrency from moto's Lambda."""
    base = float(int(time.time()) - 120)
    xray = aws_mock.client("xray")
    for _, docs in mixed_traces(base):
        xray.put_trace_segments(TraceSegmentDocuments=[json.dumps(d) for d in docs])
    role = aws_mock.client("iam").create_role(
        RoleName="r",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    lam = aws_mock.client("lambda")
    lam.create_function(
        FunctionName="dog-photo-function",
        Runtime="python3.12",
        Role=role,
        Handler="lambda_function.lambda_handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
    )
    lam.put_function_concurrency(FunctionName="dog-photo-function", ReservedConcurrentExecutions=2)
    doc = triage.analyze(aws_mock, aws_mock.settings, since="10m").to_json()
    assert (doc["traces"], doc["faulty"]["count"], doc["throttled"]["count"]) == (10, 3, 4)
    assert doc["throttled"]["concurrency"] == {
        "reserved": 2,
        "account_limit": None,
        "unreserved": None,
        "limit": "reserved",
        "unknown": [],
    }


def stubbed_lambda(reserved: dict[str, Any] | None, account: dict[str, Any] | None) -> Any:
    """An `Aws` whose Lambda client answers the two concurrency reads from a Stubber
    (None: the call fails with AccessDeniedException)."""
    import boto3
    from botocore.stub import Stubber

    client = boto3.client("lambda", region_name="us-east-1")
    stub = Stubber(client)
    if reserved is None:
        stub.add_client_error("get_function_concurrency", "AccessDeniedException", "denied")
    else:
        stub.add_response("get_function_concurrency", reserved, {"FunctionName": "f"})
    if reserved is not None and "ReservedConcurrentExecutions" in reserved:
        pass  # the function's own cap: the account's is not read
    elif account is not None:
        stub.add_response("get_account_settings", account, {})
    else:
        stub.add_client_error("get_account_settings", "AccessDeniedException", "denied")
    stub.activate()

    class Stubbed:
        def client(self, service: str) -> Any:
            assert service == "lambda"
            return client

    return Stubbed()


def test_reserved_concurrency_is_the_cap_in_force() -> None:
    aws = stubbed_lambda({"ReservedConcurrentExecutions": 3}, None)
    doc = triage.concurrency(aws, "f").to_json()
    assert (doc["limit"], doc["reserved"], doc["unknown"]) == ("reserved", 3, [])


def test_the_account_limit_when_the_function_reserves_none() -> None:
    aws = stubbed_lambda(
        {},
        {"AccountLimit": {"ConcurrentExecutions": 10, "UnreservedConcurrentExecutions": 8}},
    )
    assert triage.concurrency(aws, "f").to_json() == {
        "reserved": None,
        "account_limit": 10,
        "unreserved": 8,
        "limit": "account",
        "unknown": [],
    }


def test_limits_that_cannot_be_read_are_said_so() -> None:
    doc = triage.concurrency(stubbed_lambda(None, None), "f").to_json()
    assert doc["limit"] is None
    assert doc["unknown"] == [
        "GetFunctionConcurrency: AccessDeniedException denied",
        "GetAccountSettings: AccessDeniedException denied",
    ]
    doc = triage.concurrency(stubbed_lambda({}, None), "f").to_json()
    assert doc["limit"] == "account" and doc["account_limit"] is None
    assert doc["unknown"] == ["GetAccountSettings: AccessDeniedException denied"]


START, END = "2026-11-23T09:00:00Z", "2026-11-23T09:10:00Z"
THROTTLED_EXPECTED = """\
10 traces of dog-photo-function from 2026-11-23T09:00:00Z to 2026-11-23T09:10:00Z
slow: 3 of 6 took over 48.0 ms (twice the median 24.0 ms)
  1. injected_fault: +5000.0 ms on average in slow traces (median 5000.0 vs 0.0 ms; in 100% of slow, 0% of the others)
faulty: 3 of 10 failed; the faults start at injected_fault (3)
  InjectedFailure on injected_fault x3: injected failure before call_dog_api (DOGXRAY_INJECT_FAILURE_RATE=0.3)
     newest: 1-6922fa68-000000000000000000000008, 1-6922fa65-000000000000000000000005, 1-6922fa62-000000000000000000000002
throttled: 4 of 10 were refused with HTTP 429 by dog-photo-function (AWS::Lambda)
  {cause}
     newest: 1-6922fa69-000000000000000000000009, 1-6922fa66-000000000000000000000006, 1-6922fa63-000000000000000000000003
"""  # noqa: E501


@pytest.mark.parametrize(
    ("limits", "cause"),
    [
        (
            {"reserved": 2, "limit": "reserved"},
            "Lambda throttles requests beyond the function's reserved concurrency (2 at once)",
        ),
        (
            {"reserved": 0, "limit": "reserved"},
            "the function's reserved concurrency is 0: Lambda refuses every request",
        ),
        (
            {"account_limit": 10, "unreserved": 8, "limit": "account"},
            "Lambda throttles requests beyond the account's concurrency limit "
            "(10 at once, 8 not reserved by any function); the function reserves none",
        ),
        (
            {"limit": None, "unknown": ["GetFunctionConcurrency: AccessDeniedException denied"]},
            "Lambda throttles requests beyond the function's reserved or the account's "
            "concurrency; not read: GetFunctionConcurrency: AccessDeniedException denied",
        ),
    ],
)
def test_cli_names_throttles_and_their_cause(
    monkeypatch: pytest.MonkeyPatch, limits: dict[str, Any], cause: str
) -> None:
    from dogxray.app import app

    def fake(aws: Any, settings: Any, **_: Any) -> Analysis:
        found = compare([profile(build_trace(*t)) for t in mixed_traces()])
        throttled = replace(found.throttled, concurrency=Concurrency(**limits))
        return replace(found, start=START, end=END, throttled=throttled)

    monkeypatch.setattr(triage, "analyze", fake)
    monkeypatch.setattr("dogxray.commands.analyze.connect", lambda _ctx: None)
    # wide enough that no line wraps (the wrapping has tests of its own)
    result = CliRunner().invoke(app, ["analyze"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert result.stdout == THROTTLED_EXPECTED.format(cause=cause)
