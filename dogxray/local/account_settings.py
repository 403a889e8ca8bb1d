"""Lambda's GetAccountSettings on the emulator's endpoint (moto has none).

The account's concurrency limit is the emulator's (`dogxray local --concurrency`, the
pool's limit): `analyze` names it as the cause of throttles when the function reserves
no concurrency of its own, as it names Lambda's on AWS. What is not reserved is the
limit less what the region's functions reserve, as on AWS. Every other request goes
to moto unchanged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

PATH_RE = re.compile(r"^/\d{4}-\d{2}-\d{2}/account-settings/?$")
_CREDENTIAL_RE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/,\s]+)/lambda/")
# Lambda's published quotas (bytes), for a complete answer
TOTAL_CODE_SIZE = 80 * 1024**3
CODE_SIZE_UNZIPPED = 250 * 1024**2
CODE_SIZE_ZIPPED = 50 * 1024**2


def account_settings(limit: int, account_id: str, region: str) -> dict[str, Any]:
    """GetAccountSettings' answer for one account and region of moto's Lambda."""
    from moto.awslambda.models import lambda_backends

    functions = list(lambda_backends[account_id][region].list_functions())
    reserved = sum(int(fn.reserved_concurrency or 0) for fn in functions)
    return {
        "AccountLimit": {
            "TotalCodeSize": TOTAL_CODE_SIZE,
            "CodeSizeUnzipped": CODE_SIZE_UNZIPPED,
            "CodeSizeZipped": CODE_SIZE_ZIPPED,
            "ConcurrentExecutions": limit,
            "UnreservedConcurrentExecutions": max(0, limit - reserved),
        },
        "AccountUsage": {
            "TotalCodeSize": sum(int(fn.code_size or 0) for fn in functions),
            "FunctionCount": len(functions),
        },
    }


def _scope(environ: dict[str, Any]) -> tuple[str, str] | None:
    """(account, region) of a SigV4-signed Lambda request, as moto finds them."""
    match = _CREDENTIAL_RE.search(str(environ.get("HTTP_AUTHORIZATION", "")))
    if match is None:
        return None
    from moto.iam.models import get_account_id_from

    return get_account_id_from(match[1]), match[2]


def wrap(app: WsgiApp, limit: int) -> WsgiApp:
    """`app` with GetAccountSettings answered in front of it."""

    def with_settings(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        scope = None
        if environ.get("REQUEST_METHOD") == "GET" and PATH_RE.match(environ.get("PATH_INFO", "")):
            scope = _scope(environ)
        if scope is None:
            return app(environ, start_response)
        body = json.dumps(account_settings(limit, *scope)).encode()
        start_response(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]

    return with_settings
