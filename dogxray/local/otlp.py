"""OpenTelemetry spans as the AWS Distro for OpenTelemetry sends them inside Lambda, turned
into the X-Ray segment documents X-Ray would store (sources: docs/fidelity.md).

The datagram (ADOT's `OTLPUdpSpanExporter`): the daemon header line
`{"format":"json","version":1}`, then `T1S` (sampled) or `T1U` (not sampled) and the
base64 of an OTLP `ExportTraceServiceRequest`. Unsampled spans are not stored.

The conversion follows the OpenTelemetry Collector's AWS X-Ray exporter (its README's
"Data Conversion"): the 128-bit trace id is X-Ray's `1-<8 hex>-<24 hex>` (ADOT's X-Ray ID
generator puts the epoch seconds in the first 32 bits); a SERVER span is a segment named
after the resource's `service.name`, other spans are subsegments named after the span
(an AWS SDK call after the service, `rpc.service`, in the `aws` namespace; another
CLIENT call after the host it called, in the `remote` namespace); HTTP attributes
(old and new semantic conventions) fill the `http` block, the AWS ones the `aws` block;
an ERROR status is a fault, or an error for a 4xx answer (a throttle too for 429); an
`exception` event becomes the `cause`; the attributes named in `aws.xray.annotations`
are annotations, the others metadata.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import urlsplit

from dogxray.traces.rules import xray_trace_id

SAMPLED = b"T1S"
UNSAMPLED = b"T1U"
_STATUS_ERROR = 2  # opentelemetry.proto.trace.v1.Status.STATUS_CODE_ERROR
_KIND_SERVER = 2  # Span.SPAN_KIND_SERVER
_KIND_CLIENT = 3  # Span.SPAN_KIND_CLIENT
_HIDDEN = {"aws.xray.annotations"}


class NotSpans(ValueError):
    """The datagram claims OTLP spans but they cannot be read."""


def is_otlp(body: bytes) -> bool:
    """A datagram body (after the header line) that carries OTLP spans."""
    return body.startswith(SAMPLED) or body.startswith(UNSAMPLED)


def documents(body: bytes) -> list[dict[str, Any]]:
    """The segment documents of a datagram body; none for unsampled spans."""
    if body.startswith(UNSAMPLED):
        return []
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    try:
        raw = base64.b64decode(body[len(SAMPLED) :], validate=True)
        request = ExportTraceServiceRequest.FromString(raw)
    except (binascii.Error, ValueError) as exc:
        raise NotSpans(str(exc)) from exc
    except Exception as exc:  # protobuf's DecodeError is not a ValueError in every version
        raise NotSpans(str(exc)) from exc
    found: list[dict[str, Any]] = []
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            found.extend(document(span, resource) for span in scope_spans.spans)
    return found


def _value(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in any_value.array_value.values]
    if kind == "kvlist_value":
        return _attributes(any_value.kvlist_value.values)
    if kind == "bytes_value":
        return any_value.bytes_value.hex()
    return getattr(any_value, kind) if kind else None


def _attributes(pairs: Any) -> dict[str, Any]:
    return {pair.key: _value(pair.value) for pair in pairs}


def _first(attrs: dict[str, Any], *names: str) -> Any:
    return next((attrs[n] for n in names if n in attrs), None)


def _http(attrs: dict[str, Any]) -> dict[str, Any]:
    request = {
        key: value
        for key, value in (
            ("method", _first(attrs, "http.request.method", "http.method")),
            ("url", _first(attrs, "url.full", "http.url")),
        )
        if value is not None
    }
    response = {
        key: value
        for key, value in (
            ("status", _first(attrs, "http.response.status_code", "http.status_code")),
            (
                "content_length",
                _first(attrs, "http.response.body.size", "http.response_content_length"),
            ),
        )
        if value is not None
    }
    return {k: v for k, v in (("request", request), ("response", response)) if v}


def _aws(attrs: dict[str, Any], resource: dict[str, Any]) -> dict[str, Any]:
    found = {
        key: value
        for key, value in (
            ("operation", attrs.get("rpc.method")),
            ("region", _first(attrs, "aws.region", "cloud.region") or resource.get("cloud.region")),
            ("request_id", _first(attrs, "aws.request_id", "aws.request.id")),
            ("bucket_name", attrs.get("aws.s3.bucket")),
            ("table_name", attrs.get("aws.dynamodb.table_names")),
        )
        if value is not None
    }
    if isinstance(found.get("table_name"), list):
        found["table_name"] = found["table_name"][0] if found["table_name"] else None
    return {k: v for k, v in found.items() if v is not None}


def _cause(span: Any) -> dict[str, Any] | None:
    exceptions = []
    for event in span.events:
        if event.name != "exception":
            continue
        attrs = _attributes(event.attributes)
        exceptions.append(
            {
                "id": span.span_id.hex(),
                "type": str(attrs.get("exception.type", "Exception")),
                "message": str(attrs.get("exception.message", "")),
            }
        )
    return {"exceptions": exceptions} if exceptions else None


def _flags(span: Any, status: Any) -> dict[str, bool]:
    code = status if isinstance(status, int) else None
    if code is not None and code >= 500:
        return {"fault": True}
    if code == 429:
        return {"error": True, "throttle": True}
    if code is not None and code >= 400:
        return {"error": True}
    if span.status.code == _STATUS_ERROR:
        return {"fault": True}
    return {}


def document(span: Any, resource: dict[str, Any]) -> dict[str, Any]:
    """One span as an X-Ray segment (SERVER) or subsegment document."""
    attrs = _attributes(span.attributes)
    server = span.kind == _KIND_SERVER
    doc: dict[str, Any] = {
        "id": span.span_id.hex(),
        "trace_id": xray_trace_id(span.trace_id.hex()),
        "start_time": span.start_time_unix_nano / 1e9,
        "end_time": span.end_time_unix_nano / 1e9,
    }
    if span.parent_span_id:
        doc["parent_id"] = span.parent_span_id.hex()
    aws_call = attrs.get("rpc.system") == "aws-api"
    if server:
        doc["name"] = str(resource.get("service.name") or span.name)
    else:
        doc["type"] = "subsegment"
        if aws_call:
            doc["name"] = str(attrs.get("rpc.service") or span.name)
            doc["namespace"] = "aws"
        elif span.kind == _KIND_CLIENT:
            url = _first(attrs, "url.full", "http.url")
            host = _first(attrs, "server.address", "net.peer.name")
            doc["name"] = str(host or (urlsplit(url).hostname if url else None) or span.name)
            doc["namespace"] = "remote"
        else:
            doc["name"] = span.name
    http = _http(attrs)
    if http:
        doc["http"] = http
    if aws_call:
        doc["aws"] = _aws(attrs, resource)
    doc.update(_flags(span, (http.get("response") or {}).get("status")))
    cause = _cause(span)
    if cause:
        doc["cause"] = cause
    indexed = set(attrs.get("aws.xray.annotations") or [])
    annotations = {k: v for k, v in attrs.items() if k in indexed}
    metadata = {k: v for k, v in attrs.items() if k not in indexed and k not in _HIDDEN}
    if annotations:
        doc["annotations"] = annotations
    if metadata:
        doc["metadata"] = {"default": metadata}
    return doc


def datagram(body: bytes) -> bytes:
    """A datagram as ADOT frames it (tests, benches)."""
    return b'{"format":"json","version":1}\n' + body


def encode(request_bytes: bytes, sampled: bool = True) -> bytes:
    """`T1S`/`T1U` + base64 of a serialized ExportTraceServiceRequest."""
    prefix = SAMPLED if sampled else UNSAMPLED
    return prefix + base64.b64encode(request_bytes)


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"))
