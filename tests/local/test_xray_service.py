"""The emulator's X-Ray as the service: GetServiceGraph (paginated), GetTraceGraph and the
inferred segments of BatchGetTraces, checked with boto3 against the lab's real payload
(a success and the break-bucket failure); then `map` from the service graph."""

from __future__ import annotations

import json
import math
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests
from typer.testing import CliRunner

from dogxray.local import xray_service
from dogxray.packaging import build as package
from tests.local.conftest import Lab

BUCKET = "local-tests-graph"
BROKEN = "aws-bucket"
PAUSE_S = 2.5  # between the other tests' traces (same emulator) and this module's
LAB = "xsvc-graph"  # the function is named after the lab, as `setup` names it


@pytest.fixture(scope="module")
def run(lab: Lab) -> dict[str, Any]:
    """The lab's payload once with its bucket, once with the missing one. The emulator is
    shared with the directory's other tests (the Dog API host, the missing bucket): every
    query is scoped to the time since `began`."""
    built = package.build_package(from_env=True)
    lab.client("s3").create_bucket(Bucket=BUCKET)
    name, url = lab.deploy(
        {},
        code=built.zip_bytes,
        handler="lambda_function.lambda_handler",
        timeout=15,
        env={"BUCKET_NAME": BUCKET},
        name=f"{LAB}-function",
    )
    began = time.time()
    time.sleep(PAUSE_S)  # no other test's segment starts inside this module's window
    ok = requests.get(url, timeout=20)
    assert ok.status_code == 200, ok.text
    lab.client("lambda").update_function_configuration(
        FunctionName=name, Environment={"Variables": {"BUCKET_NAME": BROKEN}}
    )
    broken = requests.get(url, timeout=20)
    assert broken.status_code == 502
    return {"name": name, "ok": _trace_id(ok), "broken": _trace_id(broken), "began": began}


def _trace_id(response: requests.Response) -> str:
    return response.headers["X-Amzn-Trace-Id"].split(";")[0].removeprefix("Root=")


def _documents(lab: Lab, trace_id: str) -> list[dict[str, Any]]:
    traces = lab.client("xray").batch_get_traces(TraceIds=[trace_id])["Traces"]
    return [json.loads(s["Document"]) for t in traces for s in t["Segments"]]


def _since(run: dict[str, Any]) -> str:
    """A `--since` that starts at most a second before the module's traces."""
    return f"{math.ceil(time.time() - run['began'])}s"


def _graph(lab: Lab, run: dict[str, Any]) -> list[dict[str, Any]]:
    xray = lab.client("xray")
    began = datetime.fromtimestamp(run["began"], timezone.utc)
    params = {"StartTime": began, "EndTime": datetime.now(timezone.utc)}
    services: list[dict[str, Any]] = []
    for page in xray.get_paginator("get_service_graph").paginate(**params):
        services.extend(page["Services"])
    return services


def _of(services: list[dict[str, Any]], name: str, kind: str) -> dict[str, Any]:
    found = [s for s in services if s["Name"] == name and s.get("Type") == kind]
    assert len(found) == 1, [(s["Name"], s.get("Type")) for s in services]
    return found[0]


def _edge(source: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    return next(e for e in source["Edges"] if e["ReferenceId"] == target["ReferenceId"])


def _counts(stats: dict[str, Any]) -> tuple[int, int, int, int, int]:
    return (
        stats["OkCount"],
        stats["ErrorStatistics"]["OtherCount"],
        stats["ErrorStatistics"]["ThrottleCount"],
        stats["FaultStatistics"]["TotalCount"],
        stats["TotalCount"],
    )


@pytest.mark.slow
def test_inferred_s3_segments_in_batch_get_traces(lab: Lab, run: dict[str, Any]) -> None:
    for trace_id, bucket in ((run["ok"], BUCKET), (run["broken"], BROKEN)):
        documents = _documents(lab, trace_id)
        inferred = [d for d in documents if d.get("inferred")]
        assert len(inferred) == 1  # the PutObject only: remote calls get a node, no segment
        segment = inferred[0]
        call = next(d for d in documents if d.get("namespace") == "aws")
        assert (segment["name"], segment["origin"]) == (bucket, "AWS::S3::Bucket")
        assert segment["parent_id"] == call["id"] and segment["id"] != call["id"]
        assert segment["trace_id"] == trace_id
        assert (segment["start_time"], segment["end_time"]) == (
            call["start_time"],
            call["end_time"],
        )
        assert segment["aws"]["operation"] == "PutObject"
        assert segment["aws"]["bucket_name"] == bucket
        # the same ids on every read, as X-Ray's stored traces
        again = [d for d in _documents(lab, trace_id) if d.get("inferred")]
        assert again == inferred

    ok_docs = _documents(lab, run["ok"])
    ok = next(d for d in ok_docs if d.get("inferred"))
    ok_call = next(d for d in ok_docs if d.get("namespace") == "aws")
    assert ok["http"] == ok_call["http"] and ok["http"]["response"]["status"] == 200
    assert not ({"fault", "error", "throttle", "cause"} & set(ok))
    broken_docs = _documents(lab, run["broken"])
    broken = next(d for d in broken_docs if d.get("inferred"))
    call = next(d for d in broken_docs if d.get("namespace") == "aws")
    assert broken["http"] == call["http"] and broken["http"]["response"]["status"] == 404
    assert broken["fault"] is True and "cause" not in broken  # the exception is the caller's
    (exception,) = call["cause"]["exceptions"]
    assert exception["type"] == "NoSuchBucket" and exception["remote"] is True
    assert "The specified bucket does not exist" in exception["message"]


@pytest.mark.slow
def test_batch_get_traces_duration_and_unprocessed_ids(lab: Lab, run: dict[str, Any]) -> None:
    """`Trace.Duration` in seconds (a Double: moto's rounds to whole seconds), from the
    root segment's start to the last end; ids X-Ray does not hold come back unprocessed."""
    unknown = "1-00000001-000000000000000000000001"
    answer = lab.client("xray").batch_get_traces(TraceIds=[run["ok"], unknown, run["ok"]])
    assert answer["UnprocessedTraceIds"] == [unknown]
    (trace,) = answer["Traces"]
    documents = [json.loads(s["Document"]) for s in trace["Segments"]]
    root = min(d["start_time"] for d in documents if not d.get("parent_id"))
    span = max(d["end_time"] for d in documents) - root
    assert trace["Id"] == run["ok"] and 0 < trace["Duration"] < 10
    assert abs(trace["Duration"] - span) <= 0.0005  # rounded to the millisecond


def test_service_graph_of_the_lab(lab: Lab, run: dict[str, Any]) -> None:
    services = _graph(lab, run)
    name = run["name"]
    service = _of(services, name, "AWS::Lambda")
    function = _of(services, name, "AWS::Lambda::Function")
    client = _of(services, name, "client")
    good = _of(services, BUCKET, "AWS::S3::Bucket")
    broken = _of(services, BROKEN, "AWS::S3::Bucket")
    dog_api = _of(services, "127.0.0.1", "remote")
    refs = [s["ReferenceId"] for s in services]
    assert len(refs) == len(set(refs))

    assert service["Root"] is True and service["State"] == "active"
    assert "Root" not in function and function["State"] == "active"
    assert function["AccountId"] == "123456789012"
    assert good["State"] == broken["State"] == dog_api["State"] == "unknown"
    # the client sent two requests; Lambda's service answered both invokes (200), the
    # function faulted on one of them
    assert [e["ReferenceId"] for e in client["Edges"]] == [service["ReferenceId"]]
    assert "SummaryStatistics" not in client
    assert _counts(client["Edges"][0]["SummaryStatistics"]) == (2, 0, 0, 0, 2)
    assert _counts(service["SummaryStatistics"]) == (2, 0, 0, 0, 2)
    assert [e["ReferenceId"] for e in service["Edges"]] == [function["ReferenceId"]]
    assert _counts(function["SummaryStatistics"]) == (1, 0, 0, 1, 2)
    targets = {e["ReferenceId"] for e in function["Edges"]}
    assert targets == {good["ReferenceId"], broken["ReferenceId"], dog_api["ReferenceId"]}
    # the bucket nodes: one good PutObject, one that faulted (NoSuchBucket)
    assert _counts(good["SummaryStatistics"]) == (1, 0, 0, 0, 1)
    assert _counts(broken["SummaryStatistics"]) == (0, 0, 0, 1, 1)
    assert _counts(_edge(function, broken)["SummaryStatistics"]) == (0, 0, 0, 1, 1)
    assert _counts(dog_api["SummaryStatistics"]) == (4, 0, 0, 0, 4)  # 2 GETs a request
    for node in (service, function, good, broken, dog_api):
        stats = node["SummaryStatistics"]
        histogram = node["ResponseTimeHistogram"]
        assert sum(h["Count"] for h in histogram) == stats["TotalCount"]
        assert sum(h["Count"] for h in node["DurationHistogram"]) == stats["TotalCount"]
        assert stats["TotalResponseTime"] == pytest.approx(
            sum(h["Value"] * h["Count"] for h in histogram), abs=0.001 * stats["TotalCount"]
        )
        assert node["StartTime"] <= node["EndTime"]
    call = _edge(function, broken)
    assert call["ResponseTimeHistogram"][0]["Count"] == 1
    assert call["StartTime"] <= call["EndTime"]


def test_service_graph_window_and_pagination(
    lab: Lab, run: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    everything = _graph(lab, run)
    monkeypatch.setattr(xray_service, "SERVICES_PER_PAGE", 2)
    xray = lab.client("xray")
    now = datetime.now(timezone.utc)
    began = datetime.fromtimestamp(run["began"], timezone.utc)
    first = xray.get_service_graph(StartTime=began, EndTime=now)
    assert len(first["Services"]) == 2 and first["NextToken"]
    paged = _graph(lab, run)  # boto3's paginator follows NextToken to the end
    assert [s["ReferenceId"] for s in paged] == [s["ReferenceId"] for s in everything]
    assert paged == everything
    # a window before the lab ran has nothing
    old = xray.get_service_graph(StartTime=now - timedelta(days=2), EndTime=now - timedelta(days=1))
    assert old["Services"] == [] and "NextToken" not in old


def test_trace_graph_of_one_trace(lab: Lab, run: dict[str, Any]) -> None:
    services = lab.client("xray").get_trace_graph(TraceIds=[run["broken"]])["Services"]
    kinds = {(s["Name"], s.get("Type")) for s in services}
    name = run["name"]
    assert kinds == {
        (name, "client"),
        (name, "AWS::Lambda"),
        (name, "AWS::Lambda::Function"),
        (BROKEN, "AWS::S3::Bucket"),
        ("127.0.0.1", "remote"),
    }
    bucket = _of(services, BROKEN, "AWS::S3::Bucket")
    assert _counts(bucket["SummaryStatistics"]) == (0, 0, 0, 1, 1)
    assert lab.client("xray").get_trace_graph(TraceIds=["1-00000000-" + "0" * 24])["Services"] == []


@pytest.mark.slow
def test_map_comes_from_the_service_graph(
    lab: Lab, run: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dogxray.app import app

    endpoint = ["--endpoint-url", lab.emu.endpoint_url, "--region", "us-east-1"]
    args = [*endpoint, "--lab", LAB, "map", "--since", _since(run), "--output", "json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    from_graph = json.loads(result.stdout)
    assert from_graph["source"] == "service-graph"

    monkeypatch.setattr(lab.emu.state, "graph", False)  # moto's own (empty) graph
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    from_traces = json.loads(result.stdout)
    assert from_traces["source"] == "traces" and from_traces["traces"] == 2

    def shape(doc: dict[str, Any]) -> tuple[list, list]:
        names = {n["id"]: (n["name"], n["type"]) for n in doc["nodes"]}
        nodes = sorted(
            (names[n["id"]], n["stats"]["requests"], n["stats"]["fault"]) for n in doc["nodes"]
        )
        edges = sorted(
            (names[e["source"]], names[e["target"]], e["stats"]["requests"], e["stats"]["fault"])
            for e in doc["edges"]
        )
        return nodes, edges

    assert shape(from_graph) == shape(from_traces)
    monkeypatch.undo()  # the emulator's service graph again: the text map says so
    args = [*endpoint, "--lab", LAB, "map", "--since", _since(run)]
    text = CliRunner().invoke(app, args, env={"COLUMNS": "100"})
    assert text.exit_code == 0, text.output
    assert text.stdout.startswith("X-Ray service graph since ")
    assert f"{BROKEN} (AWS::S3::Bucket)" in text.stdout
    assert len(from_graph["nodes"]) == 6 and len(from_graph["edges"]) == 5


@pytest.mark.slow
def test_trace_and_traces_with_inferred_segments(lab: Lab, run: dict[str, Any]) -> None:
    """The inferred bucket segment sits under the PutObject call (as in the console's
    timeline); the root cause stays save_dog_to_s3 / NoSuchBucket; no node is doubled."""
    from dogxray.app import app

    base = ["--endpoint-url", lab.emu.endpoint_url, "--region", "us-east-1", "--lab", LAB]
    result = CliRunner().invoke(app, [*base, "trace", run["broken"], "--output", "json"])
    assert result.exit_code == 0, result.output
    detail = json.loads(result.stdout)
    assert detail["root_cause"]["segment"] == "save_dog_to_s3"
    assert detail["root_cause"]["exception"] == "NoSuchBucket"

    def walk(node: dict[str, Any]) -> Any:
        yield node
        for child in node["children"]:
            yield from walk(child)

    nodes = [n for root in detail["nodes"] for n in walk(root)]
    (call,) = [n for n in nodes if n["namespace"] == "aws"]
    (inferred,) = call["children"]
    assert (inferred["name"], inferred["origin"]) == (BROKEN, "AWS::S3::Bucket")
    assert inferred["fault"] is True and inferred["http_status"] == 404
    assert inferred["exceptions"] == []
    assert [e["type"] for e in call["exceptions"]] == ["NoSuchBucket"]
    assert [n["name"] for n in nodes].count(BROKEN) == 1

    text = CliRunner().invoke(app, [*base, "trace", run["broken"]], env={"COLUMNS": "160"})
    assert text.exit_code == 0, text.output
    lines = text.stdout.splitlines()
    rows = [line.split("|")[-1].strip() for line in lines]  # the NODE column
    at = next(i for i, row in enumerate(rows) if row.startswith("s3  "))
    assert rows[at + 1].startswith("! NoSuchBucket: ")  # the call's own exception
    bucket = next(row for row in rows[at:] if row.startswith(f"{BROKEN}  (AWS::S3::Bucket)"))
    assert "PutObject" in bucket and "FAULT,ERROR" in bucket and "HTTP 404" in bucket

    listed = CliRunner().invoke(app, [*base, "traces", "--output", "json"])
    assert listed.exit_code == 0, listed.output
    by_id = {row["id"]: row for row in json.loads(listed.stdout)["traces"]}
    assert by_id[run["broken"]]["root_cause"]["segment"] == "save_dog_to_s3"
    assert by_id[run["broken"]]["status"] == 502 and by_id[run["ok"]]["root_cause"] is None


def test_window_selects_the_traces_moto_selects() -> None:
    """`window` reads moto's trace store instead of building moto's summaries: the same
    traces (finished, begun after the start, ended before the end), with their segments."""
    from moto.xray.models import XRayBackend

    backend = XRayBackend("us-east-1", "123456789012")
    now = time.time()

    def put(trace: str, start: float, end: float | None) -> None:
        doc: dict[str, Any] = {
            "name": "fn",
            "id": f"{abs(hash((trace, start))) % 16**16:016x}",
            "trace_id": trace,
            "start_time": start,
        }
        doc.update({"end_time": end} if end is not None else {"in_progress": True})
        backend.process_segment(json.dumps(doc))

    put("1-00000001-000000000000000000000001", now - 50, now - 49)  # inside
    put("1-00000002-000000000000000000000002", now - 40, now - 39)  # inside, 2 segments
    put("1-00000002-000000000000000000000002", now - 40, now - 38.5)
    put("1-00000003-000000000000000000000003", now - 500, now - 499)  # began before
    put("1-00000004-000000000000000000000004", now - 20, now + 100)  # ends after
    put("1-00000005-000000000000000000000005", now - 30, None)  # in progress
    start, end = now - 60, now
    moto = backend.get_trace_summary(
        xray_service.moto_time(start), xray_service.moto_time(end), None
    )
    found = xray_service.window(backend, start, end)
    assert sorted(t for t, _ in found) == sorted(s["Id"] for s in moto["TraceSummaries"])
    assert sorted(t for t, _ in found) == [
        "1-00000001-000000000000000000000001",
        "1-00000002-000000000000000000000002",
    ]
    assert {t: len(segments) for t, segments in found}["1-00000002-000000000000000000000002"] == 2


def test_a_trace_in_progress_is_returned_under_its_id() -> None:
    """moto names a stored trace only once its last segment has ended; BatchGetTraces and
    the trace graph key a trace by the id asked for (the API's `Trace.Id`), never null."""
    from moto.xray.models import XRayBackend

    backend = XRayBackend("us-east-1", "123456789012")
    trace = "1-00000009-000000000000000000000009"
    doc = {"name": "fn", "id": "a" * 16, "trace_id": trace, "start_time": time.time()}
    backend.process_segment(json.dumps({**doc, "in_progress": True}))
    answer = xray_service.batch_get_traces(backend, {"TraceIds": [trace]})
    assert [t["Id"] for t in answer["Traces"]] == [trace]
    assert answer["UnprocessedTraceIds"] == []
    assert list(xray_service.documents(backend, [trace])) == [trace]
