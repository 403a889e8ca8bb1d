"""The three trace-model gaps of issue 9, each reproduced by a document in the shapes
real X-Ray returns (BatchGetTraces, embedded subsegments)."""

from __future__ import annotations

from typing import Any

from dogxray.traces.analysis import analyse, client_status
from dogxray.traces.model import build_trace, node_json

TID = "1-69248200-0000000000005a17c0de0100"
T0 = 1764000256.0


def _lambda_service(**extra: Any) -> dict[str, Any]:
    return {
        "id": "1000000000000100",
        "name": "dog-photo-function",
        "trace_id": TID,
        "start_time": T0,
        "end_time": T0 + 0.8,
        "origin": "AWS::Lambda",
        "http": {"response": {"status": 200}},
        "aws": {"request_id": "5e0c2d1e-0000-4000-8000-000000000100"},
        **extra,
    }


def _function(subsegments: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "id": "f000000000000100",
        "name": "dog-photo-function",
        "trace_id": TID,
        "parent_id": "1000000000000100",
        "start_time": T0 + 0.01,
        "end_time": T0 + 0.79,
        "origin": "AWS::Lambda::Function",
        "subsegments": subsegments,
        **extra,
    }


def test_a_segment_whose_parent_is_missing_makes_the_trace_partial() -> None:
    """The function's segment names the `AWS::Lambda` segment as its parent, but X-Ray
    has not returned that document (yet): the trace is incomplete."""
    docs = [_function([{"id": "a1", "name": "Invocation", "start_time": T0 + 0.02,
                        "end_time": T0 + 0.7}])]  # fmt: skip
    trace = build_trace(TID, docs)
    assert [n.name for n, _ in trace.walk()] == ["dog-photo-function", "Invocation"]
    assert trace.partial
    assert analyse(trace).to_json()["partial"] is True
    # with its parent present, the same segment is complete
    assert not build_trace(TID, [_lambda_service(), *docs]).partial
    # a root segment without a parent_id is complete on its own
    alone = _function([])
    alone.pop("parent_id")
    assert not build_trace(TID, [alone]).partial


def test_open_subsegments_of_a_finished_trace_end_at_their_last_child() -> None:
    """X-Ray returns some managed services' subsegments with `in_progress: true` in a
    finished trace: the node is marked, drawn to its last child's end (or its start
    when it has none), and the trace is not partial."""
    sqs_call = {
        "id": "a3",
        "name": "SQS",
        "namespace": "aws",
        "start_time": T0 + 0.1,
        "in_progress": True,
        "subsegments": [
            {"id": "a4", "name": "Marshal", "start_time": T0 + 0.1, "end_time": T0 + 0.15},
            {"id": "a5", "name": "Send", "start_time": T0 + 0.15, "end_time": T0 + 0.3},
        ],
    }
    childless = {"id": "a6", "name": "Sidecar", "start_time": T0 + 0.4, "in_progress": True}
    invocation = {
        "id": "a2",
        "name": "Invocation",
        "start_time": T0 + 0.02,
        "end_time": T0 + 0.7,
        "subsegments": [sqs_call, childless],
    }
    trace = build_trace(TID, [_lambda_service(), _function([invocation])])
    assert not trace.partial
    by_name = {n.name: n for n, _ in trace.walk()}
    sqs = node_json(by_name["SQS"], trace)
    assert sqs["in_progress"] is True
    assert (sqs["start_offset_ms"], sqs["duration_ms"]) == (100.0, 200.0)  # to Send's end
    side = node_json(by_name["Sidecar"], trace)
    assert (side["in_progress"], side["start_offset_ms"], side["duration_ms"]) == (True, 400.0, 0.0)
    assert trace.duration_ms == 800.0
    assert "partial" not in analyse(trace).to_json()


def test_an_open_segment_still_makes_the_trace_partial() -> None:
    open_function = _function(
        [{"id": "a7", "name": "Invocation", "start_time": T0 + 0.02, "in_progress": True}],
        in_progress=True,
    )
    open_function.pop("end_time")
    trace = build_trace(TID, [_lambda_service(), open_function])
    assert trace.partial
    invocation = next(n for n, _ in trace.walk() if n.name == "Invocation")
    # the segment is still open: its subsegment is drawn to the trace's latest time
    assert trace.node_end(invocation) == trace.end


def test_the_client_status_comes_from_a_fault_on_the_handler_under_invocation() -> None:
    """A real unhandled-error trace: neither Lambda segment carries the fault, only the
    handler's subsegment under `Invocation` (with the exception); the invoke recorded 200
    and the Function URL answered 502."""
    handler = {
        "id": "a9",
        "name": "## lambda_handler",
        "start_time": T0 + 0.03,
        "end_time": T0 + 0.6,
        "fault": True,
        "cause": {
            "working_directory": "/var/task",
            "exceptions": [{"id": "e0e0e0e0e0e0e0e0", "type": "KeyError", "message": "'url'"}],
        },
    }
    invocation = {
        "id": "a8",
        "name": "Invocation",
        "start_time": T0 + 0.02,
        "end_time": T0 + 0.7,
        "subsegments": [handler],
    }
    docs = [_lambda_service(), _function([invocation])]
    trace = build_trace(TID, docs)
    assert client_status(trace) == 502
    assert analyse(trace).to_json()["status"] == 502
    # the same fault on a downstream call only (the handler caught it): 200 stands
    handler.pop("fault")
    handler.pop("cause")
    handler["subsegments"] = [
        {
            "id": "b1",
            "name": "S3",
            "namespace": "aws",
            "start_time": T0 + 0.1,
            "end_time": T0 + 0.2,
            "fault": True,
            "http": {"response": {"status": 500}},
            "cause": {"exceptions": [{"id": "e1", "type": "InternalError", "message": "x"}]},
        }
    ]
    assert client_status(build_trace(TID, docs)) == 200
