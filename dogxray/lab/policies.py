"""IAM and Lambda policy documents of the lab, and their normalised comparison.

Policies are compared as parsed JSON with order-insensitive lists, so a document IAM
returns URL-encoded or re-ordered still counts as unchanged (no needless Put*).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from dogxray.lab.models import Permission

LAMBDA_PRINCIPAL = "lambda.amazonaws.com"
TRUST_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": LAMBDA_PRINCIPAL},
            "Action": "sts:AssumeRole",
        }
    ],
}
# The console lab's managed policies, plus X-Ray write (active tracing needs it).
CONSOLE_POLICIES = ("AmazonS3FullAccess", "CloudWatchFullAccess", "AWSXRayDaemonWriteAccess")

URL_SID = "FunctionURLAllowPublicAccess"  # the console's statement id
INVOKE_SID = "FunctionURLAllowInvokeAction"
URL_PERMISSIONS = (
    Permission(sid=URL_SID, action="lambda:InvokeFunctionUrl", url_auth_type="NONE"),
    Permission(sid=INVOKE_SID, action="lambda:InvokeFunction", via_url=True),
)


def managed_arns(partition: str = "aws") -> tuple[str, ...]:
    return tuple(f"arn:{partition}:iam::aws:policy/{name}" for name in CONSOLE_POLICIES)


def least_privilege_policy(
    *, bucket: str, region: str, account: str, log_group: str, partition: str = "aws"
) -> dict[str, Any]:
    """S3 write/read on the lab bucket's objects, the function's logs, X-Ray write."""
    log_arn = f"arn:{partition}:logs:{region}:{account}:log-group:{log_group}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "LabBucketObjects",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": f"arn:{partition}:s3:::{bucket}/*",
            },
            {
                "Sid": "FunctionLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [log_arn, f"{log_arn}:*"],
            },
            {
                "Sid": "XRayWrite",
                "Effect": "Allow",
                # In Lambda the X-Ray SDK samples locally (the service decides sampling
                # for the function segment): it never calls GetSampling*.
                "Action": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
                "Resource": "*",
            },
        ],
    }


def parse_document(doc: str | Mapping[str, Any]) -> dict[str, Any]:
    """IAM returns documents URL-encoded (strings) or already parsed (boto3 decodes some)."""
    if isinstance(doc, Mapping):
        return dict(doc)
    text = doc if doc.lstrip().startswith("{") else unquote(doc)
    return dict(json.loads(text))


def canonical(value: Any) -> Any:
    """Order-insensitive form: sorted lists, single-item lists as the item."""
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        items = sorted((canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
        return items[0] if len(items) == 1 else items
    return value


def same_document(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return bool(canonical(a) == canonical(b))


def parse_permissions(policy: str | None) -> tuple[Permission, ...]:
    """Normalise the function's resource policy. Real AWS folds the URL parameters into
    `Condition`; moto keeps them as raw `FunctionUrlAuthType`/`InvokedViaFunctionUrl` keys."""
    if not policy:
        return ()
    found = []
    for st in json.loads(policy).get("Statement", []):
        principal = st.get("Principal", "")
        if isinstance(principal, Mapping):
            principal = principal.get("AWS") or principal.get("Service") or ""
        cond = st.get("Condition", {}) or {}
        auth = st.get("FunctionUrlAuthType") or _condition(cond, "lambda:FunctionUrlAuthType")
        via = st.get("InvokedViaFunctionUrl")
        if via is None:
            via = _condition(cond, "lambda:InvokedViaFunctionUrl")
        found.append(
            Permission(
                sid=str(st.get("Sid", "")),
                action=str(st.get("Action", "")),
                principal=str(principal),
                url_auth_type=str(auth) if auth else None,
                via_url=None if via is None else str(via).lower() == "true",
            )
        )
    return tuple(found)


def _condition(cond: Mapping[str, Any], key: str) -> Any:
    for block in cond.values():
        if isinstance(block, Mapping):
            for name, value in block.items():
                if name.lower() == key.lower():
                    return value
    return None


def public_unconditioned(perms: tuple[Permission, ...]) -> list[Permission]:
    """Statements that let anyone invoke the function directly (never wanted)."""
    return [
        p
        for p in perms
        if p.principal == "*" and p.action == "lambda:InvokeFunction" and not p.via_url
    ]
