"""Every X-Ray SDK call of the payload, in one small place.

aws-xray-sdk for Python is in maintenance mode (AWS points to OpenTelemetry); keeping
the SDK behind these few functions means a switch touches only this file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aws_xray_sdk.core import patch, xray_recorder

# Never crash when there is no segment (run outside Lambda, tracing disabled, no daemon):
# log it and carry on. In Lambda the SDK uses the facade segment from _X_AMZN_TRACE_ID.
xray_recorder.configure(context_missing="LOG_ERROR")
# botocore: the S3 PutObject becomes a subsegment; requests: both HTTP GETs do.
patch(("botocore", "requests"))


@contextmanager
def invocation(name: str = "handler") -> Iterator[None]:
    """The request itself: Lambda's function segment already stands for it (the SDK's
    facade segment), so there is nothing to open here."""
    yield None


@contextmanager
def subsegment(name: str) -> Iterator[Any]:
    """A subsegment around the block; an exception escaping it is recorded as a fault."""
    with xray_recorder.in_subsegment(name) as sub:
        yield sub


def annotate(sub: Any, **values: str | int | float | bool) -> None:
    """Indexed annotations (searchable in X-Ray); a no-op when there is no subsegment."""
    if sub is None:
        return
    for key, value in values.items():
        sub.put_annotation(key, value)


def metadata(sub: Any, **values: Any) -> None:
    """Non-indexed metadata (any JSON value, e.g. the S3 key of each image)."""
    if sub is None:
        return
    for key, value in values.items():
        sub.put_metadata(key, value)
