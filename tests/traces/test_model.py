"""Parsing and analysis on recorded documents of both forms."""

from __future__ import annotations

from typing import Any

import pytest

from dogxray.core.stats import percentile
from dogxray.traces.analysis import analyse, client_status, passes_through, stats
from dogxray.traces.model import build_trace, node_json
from tests.traces.tracedocs import separate

FUNCTION = "dog-photo-function"


def shape(trace: Any) -> list[tuple[int, str, str | None]]:
    return [(depth, node.name, node.origin) for node, depth in trace.walk()]


def test_embedded_success_builds_the_lab_tree(recorded: Any) -> None:
    rec = recorded("success_embedded")
    trace = build_trace(rec["trace_id"], rec["documents"])
    assert shape(trace) == [
        (0, FUNCTION, "AWS::Lambda"),
        (1, FUNCTION, "AWS::Lambda::Function"),
        (2, "Initialization", None),
        (2, "Invocation", None),
        (3, "get_dog_images", None),
        (4, "call_dog_api", None),
        (5, "dog.ceo", None),
        (5, "images.dog.ceo", None),
        (4, "save_dog_to_s3", None),
        (5, "S3", None),
        (6, "S3", "AWS::S3"),  # the inferred segment, under the PutObject that caused it
        (2, "Overhead", None),
    ]
    assert not trace.partial
    assert passes_through(trace, FUNCTION)
    put = next(n for n, _ in trace.walk() if n.aws.get("operation") == "PutObject")
    doc = node_json(put, trace)
    assert doc["namespace"] == "aws"
    assert doc["aws"] == {
        "operation": "PutObject",
        "bucket_name": "lovely-dogs-123456789012-us-east-1",
        "key": "husky/n02110185_1469.jpg",
        "request_id": "8S4KDJ9Q2ZCGM7RX",
        "region": "us-east-1",
        "retries": 0,
    }
    assert (doc["start_offset_ms"], doc["duration_ms"], doc["http_status"]) == (723.0, 93.0, 200)
    assert doc["children"][0]["origin"] == "AWS::S3"
    assert analyse(trace).to_json() == {
        "id": rec["trace_id"],
        "start": "2025-11-24T16:00:00.000Z",
        "duration_ms": 1160.0,
        "status": 200,
        "fault": False,
        "error": False,
        "throttle": False,
        "subsegments": {"call_dog_api": 410.0, "save_dog_to_s3": 95.0},
        "root_cause": None,
    }


def test_both_forms_give_the_same_tree(recorded: Any) -> None:
    for name in ("success_embedded", "fault_embedded_accessdenied"):
        rec = recorded(name)
        embedded = build_trace(rec["trace_id"], rec["documents"])
        split = build_trace(rec["trace_id"], separate(rec["documents"]))
        assert len(separate(rec["documents"])) > len(rec["documents"])
        assert [node_json(n, split) for n in split.roots] == [
            node_json(n, embedded) for n in embedded.roots
        ]
        assert analyse(split) == analyse(embedded)


def test_separate_fault_resolves_cause_ids_and_finds_the_root_cause(recorded: Any) -> None:
    rec = recorded("fault_separate")
    trace = build_trace(rec["trace_id"], rec["documents"])
    by_name = {node.name: node for node, _ in trace.walk()}
    save = by_name["save_dog_to_s3"]
    assert save.cause_ref == "e0e0e0e0e0e0e0e1" and save.propagated
    assert [(e["type"], e["remote"]) for e in save.exceptions] == [("NoSuchBucket", True)]
    assert by_name["S3"].exceptions[0]["message"] == "The specified bucket does not exist"
    assert not by_name["S3"].propagated
    row = analyse(trace).to_json()
    assert row["root_cause"] == {
        "segment": "save_dog_to_s3",
        "exception": "NoSuchBucket",
        "message": "The specified bucket does not exist",
        "remote": True,
    }
    assert (row["status"], row["fault"]) == (502, True)
    assert row["subsegments"] == {"call_dog_api": 410.0, "save_dog_to_s3": 95.0}


def test_embedded_access_denied_uses_the_function_status(recorded: Any) -> None:
    rec = recorded("fault_embedded_accessdenied")
    trace = build_trace(rec["trace_id"], rec["documents"])
    assert client_status(trace) == 502  # the AWS::Lambda segment has none
    cause = analyse(trace).root_cause
    assert cause is not None
    assert (cause["segment"], cause["exception"]) == ("save_dog_to_s3", "AccessDenied")


def test_function_error_under_an_invoke_status_of_200_is_a_502(recorded: Any) -> None:
    """Real Lambda records the invoke's 200 on `AWS::Lambda` even when the function
    failed (the error is on `AWS::Lambda::Function`); the Function URL answered 502."""
    rec = recorded("fault_embedded_accessdenied")
    docs = [dict(doc) for doc in rec["documents"]]
    service, function = docs[0], docs[1]
    assert (service["origin"], function["origin"]) == ("AWS::Lambda", "AWS::Lambda::Function")
    service.pop("fault")
    service["http"] = {"response": {"status": 200}}
    function.pop("http")
    function["cause"] = {
        "working_directory": "/var/task",
        "exceptions": [{"id": "f1f1f1f1f1f1f1f1", "type": "AccessDenied", "message": "x"}],
    }
    assert client_status(build_trace(rec["trace_id"], docs)) == 502
    function.pop("cause")
    function.pop("error")
    # the handler's subsegment under Invocation still carries the fault: it failed
    assert client_status(build_trace(rec["trace_id"], docs)) == 502
    handler = function["subsegments"][0]["subsegments"][0]
    assert handler["name"] == "get_dog_images"
    handler.pop("fault")
    handler.pop("cause")  # the handler caught the S3 failure: the recorded status stands
    assert client_status(build_trace(rec["trace_id"], docs)) == 200


def test_in_progress_trace_is_marked_not_dropped(recorded: Any) -> None:
    rec = recorded("in_progress_separate")
    trace = build_trace(rec["trace_id"], rec["documents"])
    assert trace.partial
    root = node_json(trace.roots[0], trace)
    assert root["in_progress"] is True
    assert root["duration_ms"] == trace.duration_ms - root["start_offset_ms"]
    row = analyse(trace).to_json()
    assert row["partial"] is True
    assert row["subsegments"] == {"call_dog_api": 410.0, "save_dog_to_s3": None}


def test_other_service_is_out_of_scope(recorded: Any) -> None:
    rec = recorded("other_service")
    trace = build_trace(rec["trace_id"], rec["documents"])
    assert not passes_through(trace, FUNCTION)
    assert passes_through(trace, "billing-function")


def test_unknown_cause_id_orphans_and_duplicates() -> None:
    tid = "1-5f000000-000000000000000000000001"
    seg = {"id": "s1", "name": FUNCTION, "trace_id": tid, "start_time": 10.0, "end_time": 11.0}
    early = {
        "id": "x1",
        "name": "save_dog_to_s3",
        "type": "subsegment",
        "parent_id": "s1",
        "trace_id": tid,
        "start_time": 10.1,
        "in_progress": True,
    }
    done = dict(early, end_time=10.3, fault=True, cause="feedfeedfeedfeed")
    done.pop("in_progress")
    orphan = {
        "id": "o1",
        "name": "call_dog_api",
        "type": "subsegment",
        "parent_id": "gone",
        "trace_id": tid,
        "start_time": 10.05,
        "end_time": 10.2,
    }
    trace = build_trace(tid, [seg, early, done, orphan])
    assert [(d, n.name) for n, d in trace.walk()] == [
        (0, FUNCTION),
        (1, "save_dog_to_s3"),
        (0, "call_dog_api"),
    ]
    save = trace.roots[0].children[0]
    assert not save.in_progress and save.end == 10.3  # the completed copy won
    assert save.exceptions[0]["type"] == "Unknown"
    assert "feedfeedfeedfeed" in save.exceptions[0]["message"]
    assert trace.partial  # a subsegment lost its parent
    assert analyse(trace).root_cause == {
        "segment": "save_dog_to_s3",
        "exception": "Unknown",
        "message": "exception feedfeedfeedfeed is not recorded in this trace",
        "remote": False,
    }


@pytest.mark.parametrize(
    ("values", "pct", "expected"),
    [
        ([], 50, None),
        ([5.0], 99, 5.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.0),
        ([float(i) for i in range(1, 101)], 95, 95.0),
        ([float(i) for i in range(1, 101)], 99, 99.0),
        ([1.0, 2.0, 3.0], 100, 3.0),
    ],
)
def test_percentile_nearest_rank(values: list[float], pct: float, expected: float | None) -> None:
    assert percentile(values, pct) == expected


def test_stats_over_rows(recorded: Any) -> None:
    rows = [
        analyse(build_trace(r["trace_id"], r["documents"]))
        for r in map(
            recorded,
            (
                "success_embedded",
                "fault_separate",
                "fault_embedded_accessdenied",
                "in_progress_separate",
            ),
        )
    ]
    doc = stats(rows, (1764000000.0, 1764003600.0)).to_json()
    assert doc["count"] == 4 and doc["faults"] == 2 and doc["errors"] == 2
    assert doc["window"] == {"start": "2025-11-24T16:00:00.000Z", "end": "2025-11-24T17:00:00.000Z"}
    assert doc["subsegments"]["save_dog_to_s3"] == {
        "count": 3,
        "p50_ms": 95.0,
        "p95_ms": 95.0,
        "p99_ms": 95.0,
        "max_ms": 95.0,
        "fault_rate": 0.6667,
    }
    assert doc["subsegments"]["call_dog_api"]["count"] == 4
    assert doc["subsegments"]["call_dog_api"]["fault_rate"] == 0.0
    assert doc["subsegments"]["get_dog_images"]["count"] == 4
