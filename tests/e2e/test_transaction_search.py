"""The lab on a Transaction Search account (`dogxray local --transaction-search`): X-Ray
indexes 1 % of traces and BatchGetTraces finds none, so every trace command reads the
lab's traces from the aws/spans log group and the trace retrieval APIs, and says so
without ever advising to switch the account's destination."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.e2e_cli import Cli

NEVER = "update-trace-segment-destination"


@pytest.mark.slow
def test_every_trace_command_finds_the_fault(transaction_search_cli: Cli, tmp_path: Path) -> None:
    cli = transaction_search_cli
    cli("setup")
    status = cli("status")
    assert "traces go to CloudWatch Logs (Transaction Search)" in status.stdout
    assert cli.json("status")["trace_destination"] == "CloudWatchLogs"
    assert cli.json("test")[0]["ok"]
    cli("break-bucket")
    assert cli("test", check=False).returncode == 1

    listed = cli("traces", "--errors", "--output", "json")
    faults = [t for t in json.loads(listed.stdout)["traces"] if t["fault"]]
    assert faults, listed.stderr
    cause = faults[0]["root_cause"]
    assert (cause["segment"], cause["exception"]) == ("save_dog_to_s3", "NoSuchBucket")
    assert "Transaction Search" in listed.stderr and "1 %" in listed.stderr
    assert "update-indexing-rule" in listed.stderr

    outputs = [listed.stderr]
    detail = cli("trace", faults[0]["id"])
    assert "NoSuchBucket" in detail.stdout
    outputs.append(detail.stderr)
    graph = cli("map", "--output", "json")
    bucket = next(n for n in json.loads(graph.stdout)["nodes"] if n["name"] == "aws-bucket")
    assert bucket["stats"]["fault"] >= 1
    outputs.append(graph.stderr)
    node = cli("map", "--node", "aws-bucket", "--output", "json")
    assert json.loads(node.stdout)["exceptions"][0]["type"] == "NoSuchBucket"
    analysis = cli("analyze", "--output", "json")
    doc = json.loads(analysis.stdout)
    assert doc["traces"] >= 2 and doc["faulty"]["exceptions"][0]["type"] == "NoSuchBucket"
    outputs.append(analysis.stderr)
    report = cli("report", "--file", str(tmp_path / "report.html"))
    assert report.stdout.startswith("report of 2 traces (1 fault)"), report.stdout
    outputs.append(report.stderr)
    logs = cli("logs", "--trace", faults[0]["id"])
    assert "NoSuchBucket" in logs.stdout
    outputs.append(logs.stderr)
    assert not any(NEVER in text for text in outputs)
    cli("cleanup", "--yes")
