"""Lambda's API where the emulator differs from moto, answered in front of moto
(`local/front.py`), reading moto's Lambda only through its backend's public methods:

- `Invoke` runs the function in the emulator's runtime (moto would need Docker); a
  throttled one fails with Lambda's TooManyRequestsException (HTTP 429).
- Changing a function's code or configuration, or deleting it, stops its execution
  environment at once (after the invocation it is running), as Lambda does.
- `UpdateFunctionConfiguration` honours `TracingConfig` (moto ignores it).
- Function URLs point at the emulator's gateway instead of `*.on.aws`.
- `GetPolicy` shows a Function URL permission's `FunctionUrlAuthType` /
  `InvokedViaFunctionUrl` as the conditions Lambda stores (moto keeps them as raw keys;
  the gateway reads them through `url_conditions` too).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from dogxray.local.sampling import TraceHeader
from dogxray.local.wsgi import Reply, Request, State

TRACING_MODES = ("Active", "PassThrough")


def function_url(base: str, region: str, function_name: str) -> str:
    """The loopback Function URL of a function: one path prefix per region and function."""
    return f"{base}/{region}/{function_name}/"


def _function(req: Request) -> Any | None:
    """moto's function named in the path (name, ARN or partial ARN), or None."""
    scope = req.scope()
    if scope is None:
        return None
    from moto.awslambda.models import lambda_backends

    try:
        return lambda_backends[scope[0]][scope[1]].get_function(
            req.params["name"], req.query("Qualifier")
        )
    except Exception:  # moto's own not-found error, given when the request is forwarded
        return None


def invoke(state: State, req: Request) -> Reply:
    runtime = state.runtime
    fn = _function(req) if runtime is not None else None
    if fn is None:
        return req.forward()
    kind = req.header("X-Amz-Invocation-Type") or "RequestResponse"
    if kind == "DryRun":
        return Reply(204, [("x-amzn-RequestId", "dryrun")])
    try:
        event = json.loads(req.body) if req.body else {}
    except ValueError as exc:
        return Reply.error(
            400, "InvalidRequestContentException", f"Could not parse request body into json: {exc}"
        )
    inv = runtime.invoke(fn, event, upstream=TraceHeader.parse(req.header("X-Amzn-Trace-Id")))
    runtime.record(inv)
    if inv.throttled:
        return Reply.error(
            429, "TooManyRequestsException", "Rate Exceeded.", Reason=inv.throttled, Type="User"
        )
    if kind == "Event":  # the caller gets no payload
        return Reply(202, [("x-amzn-RequestId", inv.request_id)])
    headers: dict[str, str] = {
        "Content-Type": "application/json",
        "x-amzn-RequestId": inv.request_id,
    }
    payload = invoke_payload(inv, req.header("X-Amz-Log-Type"), headers)
    return Reply(200, list(headers.items()), payload)


def invoke_payload(inv: Any, log_type: str, headers: dict[str, str]) -> bytes:
    """The Invoke API's answer for an emulated invocation (payload, error, log tail)."""
    if inv.error is not None:
        headers["X-Amz-Function-Error"] = "Unhandled"
        error = {k: v for k, v in inv.error.items() if k != "frames"}
        payload = json.dumps({**error, "requestId": inv.request_id})
    else:
        payload = inv.payload or "null"
    if log_type.lower() == "tail":
        tail = "\n".join(text for _, text in inv.logs).encode()[-4096:]
        headers["X-Amz-Log-Result"] = base64.b64encode(tail).decode()
    return str(payload).encode()


def changed(state: State, req: Request) -> Reply:
    """UpdateFunctionCode, UpdateFunctionConfiguration, DeleteFunction: moto's answer; on
    success the function's environment is retired (and TracingConfig applied)."""
    fn = _function(req)
    reply = req.forward()
    if fn is None or not reply.ok:
        return reply
    tracing = (req.document() or {}).get("TracingConfig") if req.method == "PUT" else None
    if isinstance(tracing, dict) and tracing.get("Mode") in TRACING_MODES:
        fn.tracing_config = {"Mode": tracing["Mode"]}
        doc = reply.document()
        if isinstance(doc, dict):
            reply = reply.with_document({**doc, "TracingConfig": fn.tracing_config})
    if state.runtime is not None:
        state.runtime.retire(fn.function_arn)
    return reply


def url_config(state: State, req: Request) -> Reply:
    """The Function URL operations: moto's answer with the gateway's URL."""
    reply = req.forward()
    doc = reply.document()
    if not reply.ok or not isinstance(doc, dict):
        return reply
    configs = doc.get("FunctionUrlConfigs")
    for config in configs if isinstance(configs, list) else [doc]:
        if isinstance(config, dict) and "FunctionUrl" in config and config.get("FunctionArn"):
            parts = str(config["FunctionArn"]).split(":")
            config["FunctionUrl"] = function_url(state.gateway_base, parts[3], parts[6])
    return reply.with_document(doc)


def policy(state: State, req: Request) -> Reply:
    """GetPolicy: moto's policy with the Function URL keys as Lambda's conditions."""
    reply = req.forward()
    doc = reply.document()
    if not reply.ok or not isinstance(doc, dict) or not isinstance(doc.get("Policy"), str):
        return reply
    document = json.loads(doc["Policy"])
    document["Statement"] = [url_conditions(s) for s in document.get("Statement", [])]
    return reply.with_document({**doc, "Policy": json.dumps(document)})


def url_conditions(statement: dict[str, Any]) -> dict[str, Any]:
    """A policy statement with the raw Function URL keys of an AddPermission body moved
    into the conditions Lambda stores for them."""
    if "FunctionUrlAuthType" not in statement and "InvokedViaFunctionUrl" not in statement:
        return statement
    result = {
        k: v
        for k, v in statement.items()
        if k not in ("FunctionUrlAuthType", "InvokedViaFunctionUrl")
    }
    condition = {op: dict(values) for op, values in (statement.get("Condition") or {}).items()}
    if "FunctionUrlAuthType" in statement:
        condition.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = statement[
            "FunctionUrlAuthType"
        ]
    if "InvokedViaFunctionUrl" in statement:
        value = str(statement["InvokedViaFunctionUrl"]).lower()
        condition.setdefault("Bool", {})["lambda:InvokedViaFunctionUrl"] = value
    result["Condition"] = condition
    return result
