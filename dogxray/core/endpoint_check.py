"""An endpoint that is no AWS endpoint: what `--endpoint-url` points at when a command
gets an answer no AWS service gives (an HTML page, garbage, a status without AWS's error
code and request id). `explain` asks here first: the message says so, names the
emulator's AWS endpoint when the URL is its Function URL gateway (the gateway answers
`GET /_dogxray/gateway`), and tells an endpoint lacking one operation (a moto server)
from one that is no AWS endpoint at all (it does not answer STS as AWS does)."""

from __future__ import annotations

import botocore.exceptions as bex
from botocore.parsers import ResponseParserError

from dogxray.core.aws import CONNECT_TIMEOUT_S, aws_error, error_code, speaks_aws
from dogxray.core.config import EMULATOR_MARKER, GATEWAY_MARKER_PATH
from dogxray.core.errors import DogxrayError

NOT_AWS_HINT = (
    "point --endpoint-url / AWS_ENDPOINT_URL at an AWS API endpoint (`dogxray local` "
    "prints its own as AWS_ENDPOINT_URL), or unset it to use AWS"
)


def _kind_of(body: str) -> str:
    """What an answer that is not AWS's looks like, for a message."""
    text = body.strip().lower()
    if not text or text in ("b''", 'b""'):
        return "an empty answer"
    if "<html" in text[:1000] or "<!doctype html" in text[:1000]:
        return "an HTML page"
    if text.lstrip("b'\"").startswith(("{", "[")):
        return "a JSON document that is no AWS answer"
    return "an answer that is no AWS response"


def _not_aws_answer(exc: BaseException) -> tuple[str, str] | None:
    """(what the answer was, the operation) when `exc` is an answer no AWS service gives:
    unparseable, or an HTTP status without AWS's error code and request id."""
    if isinstance(exc, ResponseParserError):
        return _kind_of(str(exc).partition("\n")[2]), ""
    if not isinstance(exc, bex.ClientError) or aws_error(exc):
        return None
    meta = exc.response.get("ResponseMetadata") or {}
    headers = {str(k).lower(): str(v) for k, v in (meta.get("HTTPHeaders") or {}).items()}
    code = error_code(exc)
    status = meta.get("HTTPStatusCode") or code
    if "html" in headers.get("content-type", "").lower():
        kind = "an HTML page"
    elif code.isdigit():
        kind = _kind_of(str(exc.response.get("Error", {}).get("Message", "")))
    else:
        kind = "a document that is no AWS answer"
    return f"{kind} (HTTP {status})", str(getattr(exc, "operation_name", "") or "")


def emulator_api_of(url: str, timeout: float = CONNECT_TIMEOUT_S) -> str | None:
    """The AWS endpoint of dogxray's emulator when `url` is its Function URL gateway."""
    import json
    import urllib.request

    try:
        with urllib.request.urlopen(url.rstrip("/") + GATEWAY_MARKER_PATH, timeout=timeout) as r:
            answer = json.loads(r.read(4096))
    except (OSError, ValueError):
        return None
    if not isinstance(answer, dict) or answer.get("part") != "gateway":
        return None
    if not all(answer.get(k) == v for k, v in EMULATOR_MARKER.items()):
        return None
    return str(answer.get("endpoint_url") or "") or None


def endpoint_not_aws(endpoint_url: str) -> DogxrayError | None:
    """After an unexpected failure reading an answer: the message when the endpoint is
    not AWS at all (None when it answers AWS calls: then the failure is something else)."""
    api = emulator_api_of(endpoint_url)
    if api:
        return _gateway_error(endpoint_url, api)
    if speaks_aws(endpoint_url):
        return None
    return DogxrayError.usage(
        f"{endpoint_url} is not an AWS endpoint: it does not answer AWS API calls as AWS does",
        hint=NOT_AWS_HINT,
    )


def _gateway_error(endpoint_url: str, api: str) -> DogxrayError:
    return DogxrayError.usage(
        f"{endpoint_url} is not an AWS endpoint: it is the Function URL gateway of "
        "dogxray's emulator",
        hint=f"the emulator's AWS endpoint is {api}: use --endpoint-url {api} "
        f"(or `export AWS_ENDPOINT_URL={api}`)",
    )


def not_an_aws_endpoint(exc: BaseException, endpoint_url: str | None) -> DogxrayError | None:
    """The message for an answer no AWS service gives: the emulator's gateway (naming its
    API port), another HTTP server, an endpoint lacking the operation, or a proxy."""
    found = _not_aws_answer(exc)
    if found is None:
        return None
    kind, operation = found
    answered = f"it answered {operation} with {kind}" if operation else f"it answered {kind}"
    if not endpoint_url:
        return DogxrayError(
            f"the answer from AWS could not be read: {answered}",
            hint="a proxy or captive portal may be answering in AWS's place: check "
            "HTTPS_PROXY and your network, then re-run",
        )
    api = emulator_api_of(endpoint_url)
    if api:
        return _gateway_error(endpoint_url, api)
    if operation and speaks_aws(endpoint_url):
        return DogxrayError(
            f"the endpoint {endpoint_url} does not implement {operation}: {answered}",
            hint="it serves only part of the AWS API: run this command on dogxray's "
            "emulator (`dogxray local`) or on AWS",
        )
    return DogxrayError.usage(
        f"{endpoint_url} is not an AWS endpoint: {answered}", hint=NOT_AWS_HINT
    )
