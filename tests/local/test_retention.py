"""What the emulator keeps: filled beyond each bound, the oldest traces, log events and
datapoints go and the newest stay (moto's own back-end classes, standalone: no global
state); then one sweep through the running emulator, queried with boto3."""

from __future__ import annotations

import gc
import json
import time
import weakref
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
from moto.cloudwatch.models import CloudWatchBackend
from moto.logs.models import LogsBackend
from moto.xray.models import XRayBackend

from dogxray.core.config import LOCAL_KEEP_DATAPOINTS, LOCAL_KEEP_LOG_EVENTS, LOCAL_KEEP_TRACES
from dogxray.core.errors import DogxrayError
from dogxray.local import patches, retention, xray_service
from dogxray.local.retention import Bounds, parse_bounds
from tests.local.conftest import Lab

ACCOUNT, REGION = "123456789012", "us-east-1"
APP = 'def handler(event, context):\n    return {"statusCode": 200, "body": "ok"}\n'


def _trace_id(n: int) -> str:
    return f"1-{1_700_000_000 + n:08x}-{n:024x}"


def _segment(n: int) -> str:
    start = 1_700_000_000.0 + n
    return json.dumps(
        {
            "id": f"{n:016x}",
            "name": "fn",
            "trace_id": _trace_id(n),
            "start_time": start,
            "end_time": start + 0.5,
        }
    )


def test_the_oldest_traces_go_beyond_the_bound() -> None:
    backend = XRayBackend(REGION, ACCOUNT)
    for n in range(15):
        backend.process_segment(_segment(n))
    xray_service._calls(backend, xray_service._stored(backend, [_trace_id(0)]))  # cached
    dropped = retention.prune_traces(backend, 10)
    assert dropped == [_trace_id(n) for n in range(5)]
    assert list(backend._segment_collection._traces) == [_trace_id(n) for n in range(5, 15)]
    assert (id(backend), _trace_id(0)) not in xray_service._cache
    answer = backend.get_trace_ids([_trace_id(0), _trace_id(14)])
    assert answer["UnprocessedTraceIds"] == [_trace_id(0)]
    assert [t["Id"] for t in answer["Traces"]] == [_trace_id(14)]
    backend.process_segment(_segment(15))  # still a working store
    assert len(backend._segment_collection._traces) == 11
    assert retention.prune_traces(backend, 11) == []


def test_what_is_pruned_is_freed() -> None:
    """moto lists every model object it makes (its dashboard): while the emulator's
    patches are on it does not, so pruned segments and replaced S3 objects are freed."""
    from moto.s3.models import FakeKey

    token = patches.install()  # the directory's emulator may have installed them already
    try:
        backend = XRayBackend(REGION, ACCOUNT)
        for n in range(3):
            backend.process_segment(_segment(n))
        oldest = weakref.ref(backend._segment_collection._traces[_trace_id(0)]["segments"][0])
        key = weakref.ref(FakeKey("k", b"x", ACCOUNT, REGION))
        retention.prune_traces(backend, 2)
        gc.collect()
        assert oldest() is None and key() is None
    finally:
        patches.uninstall(token)
    if not patches.installed():  # moto's own behaviour again once removed
        tracked = FakeKey("k", b"x", ACCOUNT, REGION)
        assert FakeKey.instances_tracked[-1] is tracked  # type: ignore[attr-defined]
        tracked.dispose()


def test_the_oldest_log_events_of_a_group_go_beyond_the_bound() -> None:
    backend = LogsBackend(REGION, ACCOUNT)
    now = int(time.time() * 1000)  # older events than 14 days CloudWatch would refuse
    backend.create_log_group("/aws/lambda/fn", {})
    for stream in ("old", "new"):
        backend.create_log_stream("/aws/lambda/fn", stream)
    # "old" holds events 0-9; "new" holds 10-29: the 12 oldest go, "old" with them
    backend.put_log_events(
        "/aws/lambda/fn", "old", [{"timestamp": now + n, "message": f"e{n}"} for n in range(10)]
    )
    backend.put_log_events(
        "/aws/lambda/fn",
        "new",
        [{"timestamp": now + n, "message": f"e{n}"} for n in range(10, 30)],
    )
    assert retention.prune_logs(backend, 18) == 12
    group = backend.groups["/aws/lambda/fn"]
    assert list(group.streams) == ["new"]
    assert [e.message for e in group.streams["new"].events] == [f"e{n}" for n in range(12, 30)]
    assert group.streams["new"].stored_bytes == sum(len(f"e{n}") for n in range(12, 30))
    assert retention.prune_logs(backend, 18) == 0


def test_the_oldest_datapoints_of_each_metric_go_beyond_the_bound() -> None:
    backend = CloudWatchBackend(REGION, ACCOUNT)
    start = datetime(2026, 1, 1)

    def put(name: str, function: str, count: int) -> None:
        backend.put_metric_data(
            "AWS/Lambda",
            [
                {
                    "MetricName": name,
                    "Value": float(n),
                    "Timestamp": start + timedelta(seconds=n),
                    "Dimensions": [{"Name": "FunctionName", "Value": function}],
                }
                for n in range(count)
            ],
        )

    put("Duration", "a", 15)
    put("Duration", "b", 5)
    put("Invocations", "a", 12)
    assert retention.prune_metrics(backend, 10) == 5 + 2
    kept: dict[tuple[str, str], list[float]] = {}
    for datum in backend.metric_data:
        key = (datum.name, datum.dimensions[0].value)
        kept.setdefault(key, []).append(datum.value)
    assert kept == {
        ("Duration", "a"): [float(n) for n in range(5, 15)],
        ("Duration", "b"): [float(n) for n in range(5)],
        ("Invocations", "a"): [float(n) for n in range(2, 12)],
    }
    assert retention.prune_metrics(backend, 10) == 0


def test_bounds_come_from_the_environment() -> None:
    assert parse_bounds({}) == Bounds(
        LOCAL_KEEP_TRACES, LOCAL_KEEP_LOG_EVENTS, LOCAL_KEEP_DATAPOINTS
    )
    assert parse_bounds(
        {
            "DOGXRAY_LOCAL_KEEP_TRACES": "100",
            "DOGXRAY_LOCAL_KEEP_LOG_EVENTS": "200",
            "DOGXRAY_LOCAL_KEEP_DATAPOINTS": "300",
        }
    ) == Bounds(100, 200, 300)
    for bad in ("0", "-5", "many", "1.5"):
        with pytest.raises(DogxrayError) as caught:
            parse_bounds({"DOGXRAY_LOCAL_KEEP_TRACES": bad})
        assert caught.value.exit_code == 2
        assert str(caught.value.what) == f"DOGXRAY_LOCAL_KEEP_TRACES {bad} is not a count"


def test_a_sweep_of_the_running_emulator_keeps_the_newest(lab: Lab) -> None:
    name, url = lab.deploy({"app.py": APP})
    ids = []
    for _ in range(5):
        reply = requests.get(url, timeout=20)
        assert reply.status_code == 200
        ids.append(reply.headers["X-Amzn-Trace-Id"].split(";")[0].removeprefix("Root="))
    dropped = retention.sweep(Bounds(traces=3, log_events=1_000_000, datapoints=3))
    assert dropped["traces"] >= 2 and dropped["datapoints"] >= 2
    xray = lab.client("xray")
    found = xray.batch_get_traces(TraceIds=ids)
    assert sorted(t["Id"] for t in found["Traces"]) == sorted(ids[2:])
    assert sorted(found["UnprocessedTraceIds"]) == sorted(ids[:2])
    graph: dict[str, Any] = xray.get_trace_graph(TraceIds=ids)
    assert any(s["Name"] == name for s in graph["Services"])
    invocations = lab.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName="Invocations",
        Dimensions=[{"Name": "FunctionName", "Value": name}],
        StartTime=datetime.now() - timedelta(hours=1),
        EndTime=datetime.now() + timedelta(hours=1),
        Period=3600,
        Statistics=["SampleCount"],
    )
    assert sum(p["SampleCount"] for p in invocations["Datapoints"]) == 3
