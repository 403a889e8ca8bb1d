"""What the emulator changes in moto (imported only in local mode, after the env is set).

- Function URLs point at the emulator's gateway instead of `*.on.aws`.
- `AddPermission`'s `FunctionUrlAuthType` / `InvokedViaFunctionUrl` become the policy
  conditions real Lambda stores (moto keeps them as unknown raw keys).
- `UpdateFunctionConfiguration` honours `TracingConfig` (moto ignores it).
- `Invoke` runs the function in the emulator's runtime (moto would need Docker); a
  throttled one fails with Lambda's TooManyRequestsException (HTTP 429).
- Deleting a function, or changing its code or configuration, stops its execution
  environment at once (after the invocation it is running), as Lambda does.
- The server answers keep-alive clients without the ~40 ms Nagle/delayed-ACK stall.
- moto keeps no list of every model object it made (`retention.untrack_models`).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from moto.awslambda import models as lambda_models
from moto.awslambda import policy as lambda_policy
from moto.awslambda.exceptions import LambdaClientError
from moto.moto_server.werkzeug_app import MotoRequestHandler

from dogxray.local import cloudwatch_stats, retention, xray_service

_state: dict[str, Any] = {"gateway": None, "runtime": None}
_applied: list[bool] = []


def function_url(base: str, region: str, function_name: str) -> str:
    """The loopback Function URL of a function: one path prefix per region and function."""
    return f"{base}/{region}/{function_name}/"


def use_runtime(runtime: Any) -> None:
    """The runtime that `Invoke` uses (None: moto's own behaviour)."""
    _state["runtime"] = runtime


def detach() -> None:
    """Back to moto's own behaviour once the emulator stops (the patches stay installed
    but are inert: `*.on.aws` URLs, moto's Invoke)."""
    _state["gateway"] = None
    _state["runtime"] = None
    cloudwatch_stats.detach()
    xray_service.detach()
    retention.track_models()


def invoke_payload(inv: Any, request_headers: Any, response_headers: Any) -> bytes:
    """The Invoke API's answer for an emulated invocation (payload, error, log tail)."""
    if inv.error is not None:
        response_headers["x-amz-function-error"] = "Unhandled"
        error = {k: v for k, v in inv.error.items() if k != "frames"}
        payload = json.dumps({**error, "requestId": inv.request_id})
    else:
        payload = inv.payload or "null"
    if str(request_headers.get("x-amz-log-type", "")).lower() == "tail":
        tail = "\n".join(text for _, text in inv.logs).encode()[-4096:]
        response_headers["x-amz-log-result"] = base64.b64encode(tail).decode()
    response_headers["x-amzn-RequestId"] = inv.request_id
    return payload.encode()


class TooManyRequests(LambdaClientError):
    """Invoke's throttle error, with the `Reason` and `Type` fields Lambda adds."""

    code = 429

    def __init__(self, reason: str) -> None:
        super().__init__("TooManyRequestsException", "Rate Exceeded.")
        self.description = json.dumps(
            {
                "__type": "TooManyRequestsException",
                "message": "Rate Exceeded.",
                "Reason": reason,
                "Type": "User",
            }
        )


def url_conditions(statement: dict[str, Any]) -> None:
    """Move the raw Function URL keys of an AddPermission body into AWS-style conditions."""
    condition = statement.setdefault("Condition", {}) if _has_url_keys(statement) else None
    if condition is None:
        return
    auth_type = statement.pop("FunctionUrlAuthType", None)
    if auth_type is not None:
        condition.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = auth_type
    via_url = statement.pop("InvokedViaFunctionUrl", None)
    if via_url is not None:
        value = str(via_url).lower()
        condition.setdefault("Bool", {})["lambda:InvokedViaFunctionUrl"] = value


def _has_url_keys(statement: dict[str, Any]) -> bool:
    return "FunctionUrlAuthType" in statement or "InvokedViaFunctionUrl" in statement


def apply(gateway_base: str) -> None:
    """Point new Function URLs at `gateway_base`; patch moto once per process."""
    _state["gateway"] = gateway_base
    cloudwatch_stats.apply()  # Duration p50/p99 for `dogxray metrics`, as on AWS
    xray_service.apply()  # GetServiceGraph, GetTraceGraph, inferred segments
    retention.untrack_models()  # what retention prunes is freed
    if _applied:
        return
    _applied.append(True)
    MotoRequestHandler.disable_nagle_algorithm = True

    url_init = lambda_models.FunctionUrlConfig.__init__

    def init_url(self: Any, function: Any, config: dict[str, Any]) -> None:
        url_init(self, function, config)
        base = _state["gateway"]
        if base:
            self.url = function_url(base, function.region, function.function_name)

    lambda_models.FunctionUrlConfig.__init__ = init_url  # type: ignore[method-assign]

    decode = lambda_policy.Policy.decode_policy

    def decode_policy(self: Any, obj: dict[str, Any]) -> Any:
        url_conditions(obj)
        return decode(self, obj)

    lambda_policy.Policy.decode_policy = decode_policy  # type: ignore[method-assign]

    moto_invoke = lambda_models.LambdaFunction.invoke

    def invoke(self: Any, body: str, request_headers: Any, response_headers: Any) -> Any:
        runtime = _state["runtime"]
        if runtime is None:
            return moto_invoke(self, body, request_headers, response_headers)
        inv = runtime.invoke(self, json.loads(body) if body else {})
        runtime.record(inv, 429 if inv.throttled else 200)
        if inv.throttled:
            raise TooManyRequests(inv.throttled)
        return invoke_payload(inv, request_headers, response_headers)

    lambda_models.LambdaFunction.invoke = invoke  # type: ignore[method-assign]

    update = lambda_models.LambdaFunction.update_configuration

    def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        tracing = config_updates.get("TracingConfig")
        if isinstance(tracing, dict) and tracing.get("Mode") in ("Active", "PassThrough"):
            self.tracing_config = {"Mode": tracing["Mode"]}
        return update(self, config_updates)

    lambda_models.LambdaFunction.update_configuration = update_configuration  # type: ignore[method-assign]
    _retire_on_change()


def _retire(arn: str) -> None:
    runtime = _state["runtime"]
    if runtime is not None:
        runtime.retire(arn)


def _retire_on_change() -> None:
    """Deleted or changed functions lose their warm environment now, not at emulator exit."""
    for name in ("update_configuration", "update_function_code"):
        original = getattr(lambda_models.LambdaFunction, name)

        def changed(self: Any, *args: Any, _original: Any = original, **kw: Any) -> Any:
            result = _original(self, *args, **kw)
            _retire(self.function_arn)
            return result

        setattr(lambda_models.LambdaFunction, name, changed)

    delete = lambda_models.LambdaBackend.delete_function

    def delete_function(self: Any, function_name: str, qualifier: str | None = None) -> None:
        try:
            arn = self.get_function(function_name, qualifier).function_arn
        except Exception:  # moto raises its own not-found error below
            arn = None
        delete(self, function_name, qualifier)
        if arn is not None:
            _retire(arn)

    lambda_models.LambdaBackend.delete_function = delete_function  # type: ignore[method-assign]
