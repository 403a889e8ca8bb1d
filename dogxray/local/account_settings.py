"""Lambda's GetAccountSettings on the emulator's endpoint (moto has none).

The account's concurrency limit is the emulator's (`dogxray local --concurrency`, the
pool's limit): `analyze` names it as the cause of throttles when the function reserves
no concurrency of its own, as it names Lambda's on AWS. What is not reserved is the
limit less what the region's functions reserve, as on AWS. Answered in front of moto
(`local/front.py`).
"""

from __future__ import annotations

from typing import Any

from dogxray.local.wsgi import Reply, Request, State

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


def answer(state: State, req: Request) -> Reply:
    """GetAccountSettings for the signed request's account and region."""
    scope = req.scope()
    if scope is None:
        return req.forward()
    return Reply.json(account_settings(state.concurrency, *scope))
