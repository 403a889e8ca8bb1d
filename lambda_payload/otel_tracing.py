"""The payload's tracing with OpenTelemetry instead of the X-Ray SDK: the same calls as
`xray_tracing` (subsegment, annotate, metadata) plus `invocation`, the span of one
request.

Spans go where the AWS Distro for OpenTelemetry sends them inside Lambda: to the X-Ray
daemon's UDP address (`AWS_XRAY_DAEMON_ADDRESS`), as the daemon header, `T1S` and the
base64 of the OTLP-encoded spans (ADOT's `OTLPUdpSpanExporter` framing). Each span is
sent when it ends, so nothing is left unsent when Lambda freezes the environment after
the handler returns. The trace is Lambda's: the request span's parent is the function
segment named in `_X_AMZN_TRACE_ID`, and a request Lambda did not sample
(`Sampled=0`, or PassThrough's root-only header) records nothing.

Like the X-Ray SDK's `patch`, importing this module instruments `requests` (the Dog API
and image GETs become CLIENT spans) and botocore (the S3 PutObject becomes an `aws-api`
span) with the OpenTelemetry instrumentation packages, on this module's own provider.
ADOT's Lambda layer turns some instrumentations off by default; here both are on, so the
Dog API call is always traced. This module never imports dogxray.
"""

from __future__ import annotations

import base64
import os
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode

HEADER = b'{"format":"json","version":1}\n'
SAMPLED_PREFIX = b"T1S"
DEFAULT_DAEMON = "127.0.0.1:2000"
ANNOTATIONS = "aws.xray.annotations"  # which attributes X-Ray indexes as annotations


class UdpSpanExporter(SpanExporter):
    """OTLP spans over UDP to the Lambda X-Ray daemon, framed as ADOT frames them."""

    def __init__(self, address: str | None = None) -> None:
        host, _, port = (address or DEFAULT_DAEMON).rpartition(":")
        self.target = (host or "127.0.0.1", int(port))
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        body = encode_spans(spans).SerializeToString()
        try:
            self.sock.sendto(HEADER + SAMPLED_PREFIX + base64.b64encode(body), self.target)
        except OSError:
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.sock.close()


def _provider() -> TracerProvider:
    name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "dog-photo-function")
    resource = Resource.create(
        {
            "service.name": name,
            "cloud.provider": "aws",
            "cloud.platform": "aws_lambda",
            "cloud.region": os.environ.get("AWS_REGION", ""),
            "faas.name": name,
        }
    )
    provider = TracerProvider(resource=resource, sampler=ParentBased(ALWAYS_OFF))
    exporter = UdpSpanExporter(os.environ.get("AWS_XRAY_DAEMON_ADDRESS"))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


PROVIDER = _provider()  # this module's own; the process-wide provider is left alone
TRACER = PROVIDER.get_tracer("dog-photo")


def _instrument() -> None:
    """Spans for the HTTP and AWS calls, on PROVIDER (a reload re-instruments onto the new
    provider: the instrumentors are process-wide singletons)."""
    for instrumentor in (RequestsInstrumentor(), BotocoreInstrumentor()):
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
        instrumentor.instrument(tracer_provider=PROVIDER)


_instrument()


def _lambda_parent() -> Any:
    """The context of Lambda's function segment, from `_X_AMZN_TRACE_ID` (None: absent)."""
    fields = {}
    for part in os.environ.get("_X_AMZN_TRACE_ID", "").split(";"):
        key, _, value = part.partition("=")
        fields[key.strip().lower()] = value.strip()
    root, parent = fields.get("root", ""), fields.get("parent", "")
    try:
        trace_id = int(root.replace("1-", "", 1).replace("-", ""), 16)
        span_id = int(parent, 16)
    except ValueError:
        return None  # PassThrough's root-only header, or none: nothing is recorded
    flags = trace.TraceFlags(1 if fields.get("sampled") == "1" else 0)
    context = SpanContext(trace_id, span_id, is_remote=True, trace_flags=flags)
    return trace.set_span_in_context(NonRecordingSpan(context))


@contextmanager
def invocation(name: str = "handler") -> Iterator[Any]:
    """The span of one request (SERVER), under Lambda's function segment."""
    with TRACER.start_as_current_span(name, context=_lambda_parent(), kind=SpanKind.SERVER) as span:
        yield span


@contextmanager
def subsegment(name: str) -> Iterator[Any]:
    """A span around the block; an exception escaping it is recorded on it as an error."""
    with TRACER.start_as_current_span(name, record_exception=False) as span:
        try:
            yield span
        except BaseException as exc:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
            raise


def annotate(span: Any, **values: str | int | float | bool) -> None:
    """Attributes that X-Ray indexes (named in `aws.xray.annotations`)."""
    if span is None or not span.is_recording():
        return
    names = list(getattr(span, "attributes", {}).get(ANNOTATIONS, ()))
    for key, value in values.items():
        span.set_attribute(key, value)
        if key not in names:
            names.append(key)
    span.set_attribute(ANNOTATIONS, names)


def metadata(span: Any, **values: Any) -> None:
    """Attributes X-Ray keeps as metadata (not indexed)."""
    if span is None or not span.is_recording():
        return
    for key, value in values.items():
        span.set_attribute(key, value if isinstance(value, (str, int, float, bool)) else str(value))
