"""OpenTelemetry spans sent to the emulator's X-Ray daemon as ADOT sends them inside
Lambda (`T1S` + base64 OTLP after the daemon header), stored as X-Ray segments. The spans
are made and encoded by the real OpenTelemetry SDK (sources: docs/fidelity.md)."""

from __future__ import annotations

import json
import random
import socket
import time
from typing import Any

import pytest
from opentelemetry import trace as otel
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

from dogxray.local import otlp
from dogxray.traces.rules import xray_trace_id
from tests.local.conftest import Lab

FUNCTION = "dog-photo-function"
LAMBDA_PARENT = 0x53995C3F42CD8AD8  # the AWS::Lambda::Function segment, from _X_AMZN_TRACE_ID


class XRayIds(RandomIdGenerator):
    """X-Ray's trace id: the epoch seconds in the first 32 bits (as ADOT's generator)."""

    def generate_trace_id(self) -> int:
        return (int(time.time()) << 96) | random.getrandbits(96)


class NoSuchBucket(Exception):
    pass


def lab_spans() -> tuple[bytes, str]:
    """One failing lab request as the OTel payload would record it: the handler (SERVER,
    under Lambda's function segment), get_dog_images with an annotation, the Dog API GET,
    and the S3 PutObject that fails. The serialized request and the X-Ray trace id."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create({"service.name": FUNCTION, "cloud.region": "us-east-1"}),
        id_generator=XRayIds(),
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("dogxray-test")
    trace_id = XRayIds().generate_trace_id()
    parent = otel.set_span_in_context(
        otel.NonRecordingSpan(
            SpanContext(trace_id, LAMBDA_PARENT, is_remote=True, trace_flags=TraceFlags(1))
        )
    )
    with (
        tracer.start_as_current_span("handler", context=parent, kind=SpanKind.SERVER),
        tracer.start_as_current_span("get_dog_images") as images,
    ):
        images.set_attribute("breed", "corgi")
        images.set_attribute("aws.xray.annotations", ["breed"])
        with tracer.start_as_current_span("GET", kind=SpanKind.CLIENT) as get:
            get.set_attribute("http.request.method", "GET")
            get.set_attribute("url.full", "http://127.0.0.1:8123/api/breeds/image/random")
            get.set_attribute("server.address", "127.0.0.1")
            get.set_attribute("http.response.status_code", 200)
        with tracer.start_as_current_span("S3.PutObject", kind=SpanKind.CLIENT) as put:
            put.set_attribute("rpc.system", "aws-api")
            put.set_attribute("rpc.service", "S3")
            put.set_attribute("rpc.method", "PutObject")
            put.set_attribute("aws.s3.bucket", "aws-bucket")
            put.set_attribute("http.response.status_code", 404)
            put.record_exception(NoSuchBucket("The specified bucket does not exist"))
            put.set_status(Status(StatusCode.ERROR))
    request = encode_spans(exporter.get_finished_spans()).SerializeToString()
    return request, xray_trace_id(f"{trace_id:032x}")


def _send(lab: Lab, payload: bytes) -> None:
    host, port = lab.emu.runtime.daemon.address.split(":")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(otlp.datagram(payload), (host, int(port)))
    assert lab.emu.runtime.daemon.flush()


def _documents(lab: Lab, trace_id: str) -> dict[str, dict[str, Any]]:
    traces = lab.client("xray").batch_get_traces(TraceIds=[trace_id])["Traces"]
    docs = [json.loads(s["Document"]) for t in traces for s in t["Segments"]]
    return {d["name"]: d for d in docs}


def test_adot_spans_become_the_segments_x_ray_stores(lab: Lab) -> None:
    request, trace_id = lab_spans()
    _send(lab, otlp.encode(request))
    docs = _documents(lab, trace_id)
    handler = docs[FUNCTION]  # the SERVER span: a segment named after service.name
    assert handler["parent_id"] == f"{LAMBDA_PARENT:016x}" and "type" not in handler
    images = docs["get_dog_images"]
    assert images["type"] == "subsegment" and images["parent_id"] == handler["id"]
    assert images["annotations"] == {"breed": "corgi"}
    get = docs["127.0.0.1"]
    assert (get["namespace"], get["parent_id"]) == ("remote", images["id"])
    assert get["http"] == {
        "request": {"method": "GET", "url": "http://127.0.0.1:8123/api/breeds/image/random"},
        "response": {"status": 200},
    }
    put = docs["S3"]
    assert put["namespace"] == "aws" and put["aws"]["operation"] == "PutObject"
    assert put["aws"]["bucket_name"] == "aws-bucket" and put["aws"]["region"] == "us-east-1"
    assert put["error"] is True and "fault" not in put  # a 404 is an error
    assert put["cause"]["exceptions"][0]["type"].endswith("NoSuchBucket")
    # X-Ray infers the bucket from the aws call, as for the X-Ray SDK's documents
    bucket = docs["aws-bucket"]
    assert (bucket["origin"], bucket["inferred"]) == ("AWS::S3::Bucket", True)
    assert trace_id.startswith(f"1-{int(time.time()):08x}"[:6])


def test_unsampled_spans_are_not_stored(lab: Lab) -> None:
    request, trace_id = lab_spans()
    _send(lab, otlp.encode(request, sampled=False))
    assert lab.client("xray").batch_get_traces(TraceIds=[trace_id])["Traces"] == []


def test_a_bad_datagram_is_counted_not_fatal(lab: Lab) -> None:
    daemon = lab.emu.runtime.daemon
    before = daemon.rejected
    _send(lab, b"T1S" + b"not base64!")
    _send(lab, b"T1S" + b"aGVsbG8=")  # base64, but not OTLP
    assert daemon.rejected == before + 2
    request, trace_id = lab_spans()
    _send(lab, otlp.encode(request))  # and the daemon still works
    assert FUNCTION in _documents(lab, trace_id)


@pytest.mark.parametrize(
    ("status", "error_status", "flags"),
    [
        (503, True, {"fault": True}),
        (429, True, {"error": True, "throttle": True}),
        (403, True, {"error": True}),
        (None, True, {"fault": True}),
        (200, False, {}),
    ],
)
def test_status_to_flags(status: int | None, error_status: bool, flags: dict[str, bool]) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(id_generator=XRayIds())
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("t").start_as_current_span("call", kind=SpanKind.CLIENT) as span:
        if status is not None:
            span.set_attribute("http.status_code", status)  # the old convention's name
        if error_status:
            span.set_status(Status(StatusCode.ERROR))
    request = encode_spans(exporter.get_finished_spans()).SerializeToString()
    [doc] = otlp.documents(otlp.encode(request))
    assert {k: doc[k] for k in ("fault", "error", "throttle") if k in doc} == flags
