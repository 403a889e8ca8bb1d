"""Helpers more than one test directory uses, in one place (import them as
`from tests.helpers import ...`; fixtures live in tests/conftest.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

# The role trust policy of a Lambda function (what `setup` creates, what the tests that
# make a role by hand give it).
LAMBDA_PRINCIPAL = {"Service": "lambda.amazonaws.com"}
TRUST: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": LAMBDA_PRINCIPAL, "Action": "sts:AssumeRole"}],
}


def wait_for(predicate: Callable[[], object], seconds: float = 30.0) -> bool:
    """Poll `predicate` every 20 ms until it is true or `seconds` pass; its last answer.
    The bound is for failing tests only: a passing one returns as soon as it holds."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return bool(predicate())
