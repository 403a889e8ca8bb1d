"""GetAccountSettings on the emulator: its account concurrency limit (moto has no such
call), less what the region's functions reserve; `analyze` reads it for throttles."""

from __future__ import annotations

from typing import Any

from dogxray.aws import Aws
from dogxray.config import Settings
from dogxray.traces import triage


def test_the_account_limit_is_the_emulators(lab: Any) -> None:
    lam = lab.client("lambda")
    before = lam.get_account_settings()["AccountLimit"]
    assert before["ConcurrentExecutions"] == lab.emu.concurrency
    name, _ = lab.deploy({"app.py": "def handler(event, context):\n    return 1\n"})
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=2)
    try:
        after = lam.get_account_settings()["AccountLimit"]
        assert after["UnreservedConcurrentExecutions"] == (
            before["UnreservedConcurrentExecutions"] - 2
        )
        aws = Aws(Settings.from_options(endpoint_url=lab.emu.endpoint_url, region="us-east-1"))
        assert triage.concurrency(aws, name)["limit"] == "reserved"
        lam.delete_function_concurrency(FunctionName=name)
        doc = triage.concurrency(aws, name)
        assert (doc["limit"], doc["account_limit"], doc["unknown"]) == (
            "account",
            lab.emu.concurrency,
            [],
        )
    finally:
        lam.delete_function(FunctionName=name)
