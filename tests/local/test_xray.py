"""The X-Ray daemon and the segments the Lambda service records."""

from __future__ import annotations

import json
import socket
import uuid

import requests

from dogxray.local.xray_daemon import HEADER
from tests.local.conftest import Lab, with_xray_sdk

TRACED = """
from aws_xray_sdk.core import xray_recorder

def handler(event, context):
    with xray_recorder.in_subsegment("work") as sub:
        sub.put_annotation("path", event["rawPath"])
        with xray_recorder.in_subsegment("inner"):
            if event["rawPath"] == "/fail":
                raise RuntimeError("broken on purpose")
    return {"statusCode": 200, "body": "traced"}
"""
TRACED_ZIP = with_xray_sdk({"app.py": TRACED})


def _by_origin(segments: list[dict], origin: str) -> dict:
    return next(s for s in segments if s.get("origin") == origin)


def test_sdk_documents_and_lambda_segments_form_one_trace(lab: Lab) -> None:
    name, url = lab.deploy({}, code=TRACED_ZIP)
    response = requests.get(url, timeout=10)
    assert response.text == "traced"
    segments = lab.segments(response)
    service = _by_origin(segments, "AWS::Lambda")
    function = _by_origin(segments, "AWS::Lambda::Function")
    assert service["name"] == function["name"] == name
    assert service["http"] == {"response": {"status": 200}}
    assert "fault" not in service and "error" not in service
    assert function["parent_id"] == service["id"]
    work = next(s for s in segments if s["name"] == "work")
    inner = next(s for s in segments if s["name"] == "inner")
    assert work["parent_id"] == function["id"]  # the Parent in _X_AMZN_TRACE_ID
    assert inner["parent_id"] == work["id"]
    assert work["annotations"] == {"path": "/"}
    assert {s["trace_id"] for s in segments} == {service["trace_id"]}


def test_failure_is_the_functions_and_the_service_segment_keeps_200(lab: Lab) -> None:
    _, url = lab.deploy({}, code=TRACED_ZIP)
    response = requests.get(url + "fail", timeout=10)
    assert response.status_code == 502
    segments = lab.segments(response)
    service = _by_origin(segments, "AWS::Lambda")
    function = _by_origin(segments, "AWS::Lambda::Function")
    # the invoke succeeded: Lambda's own segment keeps its status; the failure is the
    # function's (its segment and Invocation), though the Function URL answered 502
    assert service["http"]["response"]["status"] == 200
    assert not ({"fault", "error", "cause"} & set(service))
    assert function["fault"] is True
    exception = function["cause"]["exceptions"][0]
    assert (exception["type"], exception["message"]) == ("RuntimeError", "broken on purpose")
    assert exception["stack"][0]["label"] == "handler"
    invocation = next(s for s in function["subsegments"] if s["name"] == "Invocation")
    assert invocation["fault"] is True
    inner = next(s for s in segments if s["name"] == "inner")
    assert inner["fault"] is True
    assert inner["cause"]["exceptions"][0]["type"] == "RuntimeError"


def test_pass_through_tracing_records_nothing(lab: Lab) -> None:
    _, url = lab.deploy({}, code=TRACED_ZIP, tracing="PassThrough")
    response = requests.get(url, timeout=10)
    assert response.text == "traced"
    assert response.headers["X-Amzn-Trace-Id"].endswith(";Sampled=0")
    assert lab.segments(response) == []


def test_tracing_can_be_switched_on_by_update(lab: Lab) -> None:
    name, url = lab.deploy({}, code=TRACED_ZIP, tracing="PassThrough")
    assert requests.get(url, timeout=10).text == "traced"  # a warm environment, untraced
    lab.client("lambda").update_function_configuration(
        FunctionName=name, TracingConfig={"Mode": "Active"}
    )
    config = lab.client("lambda").get_function_configuration(FunctionName=name)
    assert config["TracingConfig"] == {"Mode": "Active"}
    response = requests.get(url, timeout=10)
    segments = lab.segments(response)
    assert {s.get("origin") for s in segments} >= {"AWS::Lambda", "AWS::Lambda::Function"}
    # A configuration update replaces the environment, as on Lambda: a cold start.
    function = _by_origin(segments, "AWS::Lambda::Function")
    assert function["subsegments"][0]["name"] == "Initialization"


def test_daemon_forwards_raw_datagrams(lab: Lab) -> None:
    trace_id = f"1-00000000-{uuid.uuid4().hex[:24]}"
    document = {
        "trace_id": trace_id,
        "id": "a" * 16,
        "name": "udp",
        "start_time": 1.0,
        "end_time": 2.0,
    }
    host, port = lab.emu.runtime.daemon.address.split(":")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(HEADER + b"\n" + json.dumps(document).encode(), (host, int(port)))
        sock.sendto(b"not json", (host, int(port)))
    assert lab.emu.runtime.daemon.flush()
    traces = lab.client("xray").batch_get_traces(TraceIds=[trace_id])["Traces"]
    assert json.loads(traces[0]["Segments"][0]["Document"])["name"] == "udp"
