"""The Function URL gateway: loopback URLs that behave like `*.lambda-url.*.on.aws`.

A request becomes a payload-format-2.0 event, the function runs in the emulated
runtime, and its result is mapped back to HTTP as Function URLs do. The function's
resource policy is honoured: auth type NONE needs both public statements (403 otherwise).
A request the runtime throttles (no free execution environment within the function's
reserved concurrency or the account limit, or more requests in a second than 10 times
the reserved concurrency) gets the 429 a throttled Function URL answers.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from moto.awslambda.models import lambda_backends

from dogxray.core.config import EMULATOR_MARKER, GATEWAY_MARKER_PATH
from dogxray.local.httpd import LoopbackServer, QuietHandler
from dogxray.local.lambda_api import url_conditions
from dogxray.local.records import Invocation
from dogxray.local.runtime import Runtime

MAX_PAYLOAD = 6 * 1024 * 1024
JSON = {"Content-Type": "application/json"}
THROTTLED = b'{"Message":"Rate Exceeded."}'
UNAVAILABLE = b'{"Message":"Service Unavailable: the emulator is stopping"}'
TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
    "+json",
    "+xml",
)


def find_function(region: str, name: str) -> Any | None:
    """The moto function `name` in `region` that has a Function URL, in any account."""
    for backends in list(lambda_backends.values()):
        backend = dict.get(backends, region)
        if backend is None:
            continue
        try:
            fn = backend.get_function(name)
        except Exception:
            continue
        if getattr(fn, "url_config", None) is not None:
            return fn
    return None


def _principal_any(statement: dict[str, Any]) -> bool:
    principal = statement.get("Principal")
    return principal == "*" or (isinstance(principal, dict) and principal.get("AWS") == "*")


def _allows(statement: dict[str, Any], action: str, operator: str, key: str, value: str) -> bool:
    actions = statement.get("Action")
    actions = actions if isinstance(actions, list) else [actions]
    condition = (statement.get("Condition") or {}).get(operator) or {}
    return (
        statement.get("Effect") == "Allow"
        and action in actions
        and _principal_any(statement)
        and str(condition.get(key, "")).lower() == value.lower()
    )


def public_access_allowed(statements: list[dict[str, Any]]) -> bool:
    """Both statements AWS requires for a public (auth NONE) Function URL."""
    url = any(
        _allows(s, "lambda:InvokeFunctionUrl", "StringEquals", "lambda:FunctionUrlAuthType", "NONE")
        for s in statements
    )
    invoke = any(
        _allows(s, "lambda:InvokeFunction", "Bool", "lambda:InvokedViaFunctionUrl", "true")
        for s in statements
    )
    return url and invoke


def _is_text(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return any(marker in kind for marker in TEXT_TYPES)


def build_event(
    *,
    method: str,
    raw_path: str,
    query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    host: str,
    source_ip: str,
    request_id: str,
    api_id: str,
    now: float,
) -> dict[str, Any]:
    """A Function URL event, payload format version 2.0."""
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        merged[key] = f"{merged[key]},{value}" if key in merged else value
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": merged,
    }
    if cookies:
        event["cookies"] = cookies
    params: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        params[key] = f"{params[key]},{value}" if key in params else value
    if params:
        event["queryStringParameters"] = params
    event["requestContext"] = {
        "accountId": "anonymous",
        "apiId": api_id,
        "domainName": host,
        "domainPrefix": host.split(".", 1)[0],
        "http": {
            "method": method,
            "path": raw_path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": merged.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": "$default",
        "stage": "$default",
        "time": datetime.fromtimestamp(now, timezone.utc).strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now * 1000),
    }
    if body:
        text = _is_text(merged.get("content-type", ""))
        event["body"] = body.decode("utf-8", "replace") if text else base64.b64encode(body).decode()
        event["isBase64Encoded"] = not text
    else:
        event["isBase64Encoded"] = False
    return event


def map_response(inv: Invocation) -> tuple[int, dict[str, str], list[str], bytes]:
    """The function's result as (status, headers, cookies, body), as Function URLs map it."""
    if inv.throttled:
        return 429, {**JSON, "x-amzn-ErrorType": "TooManyRequestsException"}, [], THROTTLED
    failed: tuple[int, dict[str, str], list[str], bytes] = (
        502,
        dict(JSON),
        [],
        b"Internal Server Error",
    )
    if not inv.ok or inv.payload is None or len(inv.payload) > MAX_PAYLOAD:
        return failed
    result = json.loads(inv.payload)
    if not (isinstance(result, dict) and "statusCode" in result):
        plain = result if isinstance(result, str) else json.dumps(result)
        return 200, dict(JSON), [], plain.encode()
    try:
        status = int(result["statusCode"])
        headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
        cookies = [str(c) for c in result.get("cookies") or []]
        raw = result.get("body")
        text = raw if isinstance(raw, str) else ("" if raw is None else json.dumps(raw))
        body = (
            base64.b64decode(text, validate=True)
            if result.get("isBase64Encoded")
            else text.encode()
        )
    except (TypeError, ValueError, binascii.Error, AttributeError):
        return failed
    if not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/json"
    return status, headers, cookies, body


class Gateway(LoopbackServer):
    """Serves every emulated Function URL under `http://127.0.0.1:<port>/<region>/<fn>/`."""

    def __init__(self, runtime: Runtime | None, port: int = 0) -> None:
        gateway = self

        class Handler(QuietHandler):
            def _handle(self) -> None:
                gateway.handle(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

        super().__init__(Handler, port)
        self.runtime = runtime
        self.stopping = False
        self.endpoint_url = ""  # the emulator's AWS endpoint, told by the marker

    def stop(self) -> None:
        """Stop accepting, and answer what still comes over kept-alive connections with
        503 and a close (their handler threads outlive the server's shutdown)."""
        self.stopping = True
        super().stop()

    def handle(self, request: QuietHandler) -> None:
        received = time.time()
        if self.stopping:
            request.close_connection = True
            request.reply(503, UNAVAILABLE, {**JSON, "Connection": "close"})
            return
        parts = urlsplit(request.path)
        if parts.path == GATEWAY_MARKER_PATH and request.command == "GET":
            marker = {**EMULATOR_MARKER, "part": "gateway", "endpoint_url": self.endpoint_url}
            request.reply(200, json.dumps(marker).encode(), JSON)
            return
        segments = parts.path.split("/", 3)  # "", region, function, rest
        fn = find_function(segments[1], segments[2]) if len(segments) >= 3 else None
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        if fn is None or self.runtime is None:
            request.reply(404, b'{"Message":"Not Found"}', JSON)
            return
        if not self._authorized(fn, request):
            request.reply(403, b'{"Message":"Forbidden"}', JSON)
            return
        if length > MAX_PAYLOAD:
            request.reply(413, b'{"Message":"Request Entity Too Large"}', JSON)
            return
        event = build_event(
            method=request.command,
            raw_path="/" + (segments[3] if len(segments) > 3 else ""),
            query=parts.query,
            headers=list(request.headers.items()),
            body=body,
            host=request.headers.get("Host", self.url.removeprefix("http://")),
            source_ip=request.client_address[0],
            request_id=_request_id(),
            api_id=f"{segments[1]}-{segments[2]}",
            now=received,
        )
        inv = self.runtime.invoke(fn, event, received=received, via_url=True)
        status, headers, cookies, payload = map_response(inv)
        self.runtime.record(inv)
        headers["x-amzn-RequestId"] = inv.request_id
        headers["X-Amzn-Trace-Id"] = f"Root={inv.trace_id};Sampled={int(inv.sampled)}"
        request.send_response(status)
        for name, value in headers.items():
            request.send_header(name, value)
        for cookie in cookies:
            request.send_header("Set-Cookie", cookie)
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(payload)

    def _authorized(self, fn: Any, request: QuietHandler) -> bool:
        auth_type = (fn.url_config.config or {}).get("AuthType", "NONE")
        if auth_type == "AWS_IAM":
            # Signed requests are accepted without checking the signature (dummy credentials).
            return str(request.headers.get("Authorization", "")).startswith("AWS4-HMAC-SHA256")
        statements = list(getattr(fn.policy, "statements", []))
        return public_access_allowed([url_conditions(s) for s in statements])


def _request_id() -> str:
    return str(uuid.uuid4())
