"""Fetching from moto: both document forms, scoping, filter fallback, batching, detail."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests

from dogxray.core.aws import Aws
from dogxray.core.config import Settings
from dogxray.core.errors import DogxrayError
from dogxray.traces import service
from tests.traces.tracedocs import FUNCTION, put

ALL = [
    "success_embedded",
    "fault_separate",
    "fault_embedded_accessdenied",
    "in_progress_separate",
    "other_service",
]


def record_calls(aws: Aws) -> list[str]:
    """Operation names of the X-Ray calls made from now on (one per call, not attempt)."""
    calls: list[str] = []
    aws.client("xray").meta.events.register(
        "before-call.xray", lambda model, **_: calls.append(model.name)
    )
    return calls


def attempts(aws: Aws, operation: str) -> list[dict[str, Any]]:
    """Every HTTP attempt (retries included) of `operation`, with its parameters."""
    seen: list[dict[str, Any]] = []
    aws.client("xray").meta.events.register(
        f"before-send.xray.{operation}", lambda request, **_: seen.append(request)
    )
    return seen


def test_list_on_moto_scopes_client_side_after_one_rejected_filter(aws_mock: Aws) -> None:
    ids = put(aws_mock, ALL)
    calls = record_calls(aws_mock)
    summary_attempts = attempts(aws_mock, "GetTraceSummaries")
    result = service.list_traces(aws_mock, aws_mock.settings, since="10m").to_json()
    # moto answers the filter with InternalFailure: one attempt, no retries, then unfiltered
    assert [b"FilterExpression" in r.body for r in summary_attempts] == [True, False]
    assert calls[:3] == ["GetTraceSegmentDestination", "GetTraceSummaries", "GetTraceSummaries"]
    assert [t["id"] for t in result["traces"]] == [ids[3], ids[2], ids[1], ids[0]]
    assert "note" not in result
    by_id = {t["id"]: t for t in result["traces"]}
    assert by_id[ids[1]]["root_cause"]["exception"] == "NoSuchBucket"
    assert by_id[ids[2]]["root_cause"]["exception"] == "AccessDenied"
    assert by_id[ids[3]]["partial"] is True
    assert by_id[ids[0]]["subsegments"] == {"call_dog_api": 410.0, "save_dog_to_s3": 95.0}


def test_errors_only_and_limit(aws_mock: Aws) -> None:
    ids = put(aws_mock, ALL)
    errors = service.list_traces(
        aws_mock, aws_mock.settings, since="10m", errors_only=True
    ).to_json()
    assert [t["id"] for t in errors["traces"]] == [ids[2], ids[1]]
    newest = service.list_traces(aws_mock, aws_mock.settings, since="10m", limit=2).to_json()
    assert [t["id"] for t in newest["traces"]] == [ids[3], ids[2]]


@pytest.mark.slow
def test_more_than_five_ids_go_in_batches_of_five(aws_mock: Aws) -> None:
    put(aws_mock, ["fault_separate", "success_embedded"] * 6)
    batches = attempts(aws_mock, "BatchGetTraces")
    stats = service.trace_stats(aws_mock, aws_mock.settings, since="10m").to_json()
    import json

    sizes = sorted(len(json.loads(r.body)["TraceIds"]) for r in batches)
    assert sizes == [2, 5, 5]
    assert (stats["count"], stats["faults"]) == (12, 6)
    assert stats["subsegments"]["save_dog_to_s3"]["fault_rate"] == 0.5


def test_long_window_is_split_into_day_chunks(aws_mock: Aws) -> None:
    put(aws_mock, ["success_embedded"])
    summary_attempts = attempts(aws_mock, "GetTraceSummaries")
    result = service.trace_stats(aws_mock, aws_mock.settings, since="2d").to_json()
    assert result["count"] == 1
    # 1 rejected filtered call, then 2 day-chunks unfiltered
    assert len(summary_attempts) == 3


def test_empty_results_say_why(aws_mock: Aws) -> None:
    settings = aws_mock.settings
    missing = service.list_traces(aws_mock, settings, since="10m").to_json()
    assert missing["traces"] == []
    assert "not deployed" in missing["note"] and FUNCTION in missing["note"]
    iam = aws_mock.client("iam")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam = aws_mock.client("lambda")

    def deploy(mode: str) -> None:
        lam.create_function(
            FunctionName=FUNCTION,
            Runtime="python3.13",
            Role=role,
            Handler="x.h",
            Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
            TracingConfig={"Mode": mode},
        )

    deploy("PassThrough")
    off = service.list_traces(aws_mock, settings, since="10m").to_json()
    assert "tracing is off" in off["note"]
    # moto ignores TracingConfig in update_function_configuration: recreate instead
    lam.delete_function(FunctionName=FUNCTION)
    deploy("Active")
    quiet = service.trace_stats(aws_mock, settings, since="2h").to_json()
    assert quiet["count"] == 0 and "no traces of dog-photo-function in the last 2h" in quiet["note"]
    since = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%MZ")
    errs = service.list_traces(aws_mock, settings, since=since, errors_only=True).to_json()
    assert "no failed traces" in errs["note"] and f"since {since}" in errs["note"]


@pytest.mark.slow
def test_trace_detail_and_unknown_id(aws_mock: Aws) -> None:
    ids = put(aws_mock, ["fault_separate"])
    detail = service.trace_detail(aws_mock, ids[0]).to_json()
    assert detail["root_cause"]["segment"] == "save_dog_to_s3"
    assert [n["origin"] for n in detail["nodes"]] == ["AWS::Lambda"]
    with pytest.raises(DogxrayError) as info:
        service.trace_detail(aws_mock, "1-00000001-000000000000000000000001").to_json()
    assert info.value.exit_code == 1 and "not found" in info.value.what


def test_moto_server_refuses_the_filter_once_no_destination_call(moto_server: str) -> None:
    """Plain moto: the filter is refused once (no retries), then scoped client-side from
    the documents, since moto's summaries give no row (no StartTime, no ServiceIds)."""
    requests.post(moto_server + "/moto-api/reset", timeout=10)
    aws = Aws(Settings.from_options(region="us-east-1", endpoint_url=moto_server))
    ids = put(aws, ["fault_separate", "other_service", "success_embedded"])
    calls = record_calls(aws)
    result = service.list_traces(aws, aws.settings, since="10m", errors_only=True).to_json()
    assert calls == ["GetTraceSummaries", "GetTraceSummaries", "BatchGetTraces"]
    assert [t["id"] for t in result["traces"]] == [ids[0]]
    assert result["traces"][0]["root_cause"]["segment"] == "save_dog_to_s3"
    everything = service.list_traces(aws, aws.settings, since="10m").to_json()
    assert [t["id"] for t in everything["traces"]] == [ids[2], ids[0]]
