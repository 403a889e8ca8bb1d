"""The payload's tracer: the AWS X-Ray SDK (`xray_tracing`, the lab as the console
teaches it) or OpenTelemetry (`otel_tracing`), chosen by the function's
`DOGXRAY_TRACER` variable (`otel`; anything else is the X-Ray SDK). A deployment zip
carries only the module of its tracer, so only that one is imported.
"""

from __future__ import annotations

import os

if os.environ.get("DOGXRAY_TRACER") == "otel":
    from otel_tracing import annotate, invocation, metadata, subsegment
else:
    from xray_tracing import annotate, invocation, metadata, subsegment

__all__ = ["annotate", "invocation", "metadata", "subsegment", "trace_id"]


def trace_id() -> str | None:
    """The trace id Lambda gave this invocation (for the log line), if any: the same for
    either tracer, since the trace is Lambda's."""
    for part in os.environ.get("_X_AMZN_TRACE_ID", "").split(";"):
        key, _, value = part.partition("=")
        if key.strip() == "Root":
            return value.strip()
    return None
