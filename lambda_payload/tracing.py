"""The payload's tracer: the AWS X-Ray SDK (`xray_tracing`, the lab as the console
teaches it) or OpenTelemetry (`otel_tracing`), chosen by the function's
`DOGXRAY_TRACER` variable (`otel`; anything else is the X-Ray SDK). A deployment zip
carries only the module of its tracer, so only that one is imported.
"""

from __future__ import annotations

import os

if os.environ.get("DOGXRAY_TRACER") == "otel":
    from otel_tracing import annotate, invocation, metadata, subsegment, trace_id
else:
    from xray_tracing import annotate, invocation, metadata, subsegment, trace_id

__all__ = ["annotate", "invocation", "metadata", "subsegment", "trace_id"]
