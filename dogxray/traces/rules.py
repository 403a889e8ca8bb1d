"""X-Ray's rules, once, for the client (`traces/graph.py`) and the emulator
(`local/xray_service.py`): how a segment's flags and HTTP status make its status, and
which node a downstream call names. Pure: no AWS, no I/O.

Sources (docs/fidelity.md): the X-Ray segment document reference ("error", "throttle",
"fault" and `http.response.status`; `namespace` "aws" for AWS SDK calls, "remote" for
other downstream calls; `aws.bucket_name`/`aws.table_name` of the SDK's subsegments).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

REMOTE = "remote"  # the node type of a non-AWS downstream call (the SDK names it by host)
AWS_NAMESPACES = ("aws", REMOTE)  # the namespaces of a downstream call

# A subsegment's name (as the X-Ray SDKs write it, any case) -> the service's node name.
AWS_NAMES = {
    "s3": "S3",
    "amazon s3": "S3",
    "dynamodb": "DynamoDB",
    "sqs": "SQS",
    "sns": "SNS",
    "lambda": "Lambda",
    "sts": "STS",
    "kinesis": "Kinesis",
    "secretsmanager": "SecretsManager",
    "ssm": "SSM",
}

# Services whose calls name a resource node: (resource field of the `aws` block, type).
_RESOURCE_NODES = {
    "S3": ("bucket_name", "AWS::S3::Bucket"),
    "DynamoDB": ("table_name", "AWS::DynamoDB::Table"),
}


def status(fault: bool, error: bool, throttle: bool, http_status: int | None) -> str:
    """ "fault", "throttle", "error" or "ok": the flags first, else the HTTP status
    (5xx fault, 429 throttle, other 4xx error)."""
    code = http_status or 0
    if fault or code >= 500:
        return "fault"
    if throttle or code == 429:
        return "throttle"
    if error or 400 <= code < 500:
        return "error"
    return "ok"


def downstream(namespace: str | None, name: str, aws: Mapping[str, Any]) -> tuple[str, str]:
    """The node a downstream subsegment calls, (name, type): a bucket or table when the
    call names one, else the AWS service; a remote call is its own name."""
    if namespace != "aws":
        return (name, REMOTE)
    service = AWS_NAMES.get(name.lower(), name)
    field, kind = _RESOURCE_NODES.get(service, ("", ""))
    if field and aws.get(field):
        return (str(aws[field]), kind)
    return (service, f"AWS::{service}")


def xray_trace_id(otel_id: str) -> str:
    """A 32-hex-digit OpenTelemetry trace id in X-Ray's form, `1-<8 hex>-<24 hex>`."""
    return f"1-{otel_id[:8]}-{otel_id[8:]}"


def otel_trace_id(xray_id: str) -> str:
    """An X-Ray trace id as OpenTelemetry's 32 hex digits (the reverse of the above)."""
    return xray_id.replace("1-", "", 1).replace("-", "")


def exception_class(type_name: str) -> str:
    """The class an exception type names: the X-Ray SDK records the class's name
    (`NoSuchBucket`), OpenTelemetry its module too (`botocore.errorfactory.NoSuchBucket`)."""
    return type_name.rsplit(".", 1)[-1]
