"""GetAccountSettings on the emulator: its account concurrency limit (moto has no such
call), less what the region's functions reserve; `analyze` reads it for throttles."""

from __future__ import annotations

from typing import Any

import pytest

from dogxray.core.aws import Aws
from dogxray.core.config import Settings
from dogxray.triage import analyze as triage


@pytest.mark.slow
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
        assert triage.concurrency(aws, name).limit == "reserved"
        lam.delete_function_concurrency(FunctionName=name)
        doc = triage.concurrency(aws, name)
        assert (doc.limit, doc.account_limit, doc.unknown) == (
            "account",
            lab.emu.concurrency,
            [],
        )
    finally:
        lam.delete_function(FunctionName=name)


@pytest.mark.slow
def test_analyze_names_throttles_and_the_reserved_concurrency(lab: Any, tmp_path: Any) -> None:
    """Five requests at once to a function that reserves two: three throttled (Lambda's
    service segment only), which `analyze` counts apart from failures, with their cause."""
    from tests.helpers import wait_for
    from tests.local.test_scaling import HOLD, Held

    settings = Settings.from_options(
        lab="throttled", endpoint_url=lab.emu.endpoint_url, region="us-east-1"
    )
    gate = tmp_path / "gate"
    name, url = lab.deploy(
        {"app.py": HOLD}, timeout=60, env={"GATE": str(gate)}, name=settings.function_name
    )
    lam = lab.client("lambda")
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=2)
    try:
        held = Held(url, gate, 5)
        assert wait_for(lambda: held.statuses() == [429, 429, 429])
        assert sorted(r.status_code for r in held.open()) == [200, 200, 429, 429, 429]
        aws = Aws(settings)
        docs: list[dict[str, Any]] = []

        def analysed() -> bool:
            docs.append(triage.analyze(aws, settings, since="5m").to_json())
            return docs[-1]["traces"] == 5

        assert wait_for(analysed)
        doc = docs[-1]
        assert (doc["faulty"]["count"], doc["throttled"]["count"]) == (0, 3)
        assert doc["throttled"]["nodes"] == [{"node": f"{name} (AWS::Lambda)", "count": 3}]
        assert doc["throttled"]["concurrency"]["limit"] == "reserved"
        assert doc["throttled"]["concurrency"]["reserved"] == 2
        assert doc["slow"]["count"] + doc["slow"]["others"] == 2  # the two that ran
    finally:
        lam.delete_function(FunctionName=name)
