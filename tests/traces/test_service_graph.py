"""`map` on AWS: GetServiceGraph (botocore Stubber), paginated, scoped to the lab's
function, converted to the `map` document; fallback to the traces when it is empty."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber

from dogxray.core.aws import Aws
from dogxray.core.config import Settings
from dogxray.traces import mapping
from dogxray.traces.service_graph import map_document, stats

SETTINGS = Settings.from_options(region="us-east-1")
END = datetime(2025, 11, 24, 16, 10, tzinfo=timezone.utc)
WINDOW = (END - timedelta(minutes=10), END)


def summary(ok: int, error: int = 0, throttle: int = 0, fault: int = 0, seconds: float = 0.0):
    return {
        "OkCount": ok,
        "ErrorStatistics": {
            "ThrottleCount": throttle,
            "OtherCount": error,
            "TotalCount": error + throttle,
        },
        "FaultStatistics": {"OtherCount": fault, "TotalCount": fault},
        "TotalCount": ok + error + throttle + fault,
        "TotalResponseTime": seconds,
    }


def histogram(*pairs: tuple[float, int]) -> list[dict[str, Any]]:
    return [{"Value": value, "Count": count} for value, count in pairs]


def edge(ref: int, stats_: dict[str, Any], hist: list[dict[str, Any]]) -> dict[str, Any]:
    return {"ReferenceId": ref, "SummaryStatistics": stats_, "ResponseTimeHistogram": hist}


def service(ref: int, name: str, kind: str, edges: list, stats_: dict, hist: list, **extra: Any):
    return {
        "ReferenceId": ref,
        "Name": name,
        "Names": [name],
        "Type": kind,
        "State": "active",
        "Edges": edges,
        "SummaryStatistics": stats_,
        "ResponseTimeHistogram": hist,
        **extra,
    }


LAMBDA_HIST = histogram((0.1, 3), (1.0, 2))
S3_HIST = histogram((0.02, 1), (0.03, 2))
PAGE_1 = [
    service(
        1,
        "dog-photo-function",
        "AWS::Lambda",
        [edge(2, summary(3, fault=2, seconds=2.4), LAMBDA_HIST)],
        summary(3, fault=2, seconds=2.5),
        LAMBDA_HIST,
        Root=True,
    ),
    service(
        2,
        "dog-photo-function",
        "AWS::Lambda::Function",
        [
            edge(3, summary(0, fault=2, error=1, seconds=0.08), S3_HIST),
            edge(4, summary(5, seconds=0.5), histogram((0.1, 5))),
        ],
        summary(3, fault=2, seconds=2.4),
        LAMBDA_HIST,
    ),
]
PAGE_2 = [
    service(
        3, "aws-bucket", "AWS::S3::Bucket", [], summary(0, error=1, fault=2, seconds=0.08), S3_HIST
    ),
    service(4, "dog.ceo", "remote", [], summary(5, seconds=0.5), histogram((0.1, 5))),
    service(
        5,
        "orders-api",
        "AWS::EC2::Instance",
        [edge(6, summary(1, seconds=0.01), histogram((0.01, 1)))],
        summary(1, seconds=0.2),
        histogram((0.2, 1)),
        Root=True,
    ),
    service(
        6, "orders", "AWS::DynamoDB::Table", [], summary(1, seconds=0.01), histogram((0.01, 1))
    ),
]


def stubbed(pages: list[dict[str, Any]]) -> tuple[Aws, Stubber]:
    aws = Aws(SETTINGS)
    stubber = Stubber(aws.client("xray"))
    token = None
    for number, page in enumerate(pages):
        params: dict[str, Any] = {"StartTime": ANY, "EndTime": ANY}
        if token:
            params["NextToken"] = token
        token = f"page-{number + 2}" if number + 1 < len(pages) else None
        response = {"Services": page, **({"NextToken": token} if token else {})}
        stubber.add_response("get_service_graph", response, params)
    stubber.activate()
    return aws, stubber


def test_two_pages_scoped_to_the_function() -> None:
    aws, stubber = stubbed([PAGE_1, PAGE_2])
    result = mapping.service_map(aws, SETTINGS, since="10m").to_json()
    stubber.assert_no_pending_responses()
    assert result["source"] == "service-graph" and result["traces"] is None
    assert [(n["id"], n["name"], n["type"]) for n in result["nodes"]] == [
        (0, "client", "client"),
        (1, "dog-photo-function", "AWS::Lambda"),
        (2, "dog-photo-function", "AWS::Lambda::Function"),
        (3, "aws-bucket", "AWS::S3::Bucket"),
        (4, "dog.ceo", "remote"),
    ]  # orders-api and its table are another application's
    assert [(e["source"], e["target"], e["stats"]["requests"]) for e in result["edges"]] == [
        (0, 1, 5),
        (1, 2, 5),
        (2, 3, 3),
        (2, 4, 5),
    ]
    lam = result["nodes"][1]["stats"]
    assert lam == {
        "requests": 5,
        "ok": 3,
        "error": 0,
        "fault": 2,
        "throttle": 0,
        "health": {"ok": 0.6, "error": 0.0, "fault": 0.4, "throttle": 0.0},
        "avg_ms": 500.0,
        "p50_ms": 100.0,
        "p95_ms": 1000.0,
        "p99_ms": 1000.0,
        "max_ms": 1000.0,
        "per_minute": 0.5,
    }
    assert result["nodes"][0]["stats"] == lam  # the client saw what the Lambda service did
    s3 = result["nodes"][3]["stats"]
    assert (s3["error"], s3["fault"], s3["p50_ms"], s3["max_ms"]) == (1, 2, 30.0, 30.0)


def test_a_client_service_in_the_graph_gives_the_client_edge() -> None:
    client_edge = edge(1, summary(4, throttle=1, seconds=2.0), histogram((0.4, 5)))
    page = [service(0, "client", "client", [client_edge], summary(0), []), *PAGE_1, *PAGE_2]
    result = map_document(page, "dog-photo-function", WINDOW).to_json()
    first = result["edges"][0]
    assert (first["source"], first["target"]) == (0, 1)
    assert (first["stats"]["throttle"], first["stats"]["avg_ms"]) == (1, 400.0)


def test_empty_graph_falls_back_to_traces() -> None:
    aws, stubber = stubbed([[]])
    stubber.add_response(
        "get_trace_segment_destination", {"Destination": "XRay", "Status": "ACTIVE"}, {}
    )
    stubber.add_response("get_trace_summaries", {"TraceSummaries": []}, None)
    with Stubber(aws.client("lambda")) as lam:
        lam.add_response(
            "get_function_configuration",
            {"FunctionName": "dog-photo-function", "TracingConfig": {"Mode": "Active"}},
            {"FunctionName": "dog-photo-function"},
        )
        result = mapping.service_map(aws, SETTINGS, since="10m").to_json()
    stubber.assert_no_pending_responses()
    assert (result["source"], result["traces"], result["nodes"]) == ("traces", 0, [])
    assert result["note"].startswith("no traces of dog-photo-function in the last 10m")


@pytest.mark.slow
def test_denied_graph_falls_back_to_traces_other_errors_fail() -> None:
    aws, stubber = stubbed([])
    stubber.add_client_error("get_service_graph", "AccessDeniedException", http_status_code=403)
    assert mapping._from_service_graph(aws, SETTINGS, WINDOW) is None
    stubber.add_client_error("get_service_graph", "InvalidRequestException", http_status_code=400)
    with pytest.raises(ClientError):
        mapping._from_service_graph(aws, SETTINGS, WINDOW)


def test_stats_without_histogram() -> None:
    result = stats(summary(2, seconds=0.3), [], 10.0).to_json()
    assert (result["avg_ms"], result["p50_ms"], result["per_minute"]) == (150.0, None, 0.2)
    json.dumps(result)
