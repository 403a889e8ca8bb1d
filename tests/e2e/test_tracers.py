"""The whole lab with each tracer (`--tracer xray|otel`) through the ordinary commands
against `dogxray local`: every trace command tells the same story (the S3 PutObject of
save_dog_to_s3 failed with NoSuchBucket), and switching a lab's tracer redeploys it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dogxray.traces.rules import exception_class
from tests.e2e.e2e_cli import Cli, base_env

pytestmark = pytest.mark.e2e


def _exception_is_no_such_bucket(name: str) -> bool:
    """The X-Ray SDK names the class (`NoSuchBucket`); OpenTelemetry qualifies it with its
    module (`botocore.errorfactory.NoSuchBucket`), and X-Ray shows what it was sent."""
    return exception_class(name) == "NoSuchBucket"


@pytest.mark.slow
@pytest.mark.parametrize("tracer", ["xray", "otel"])
def test_the_lab_with_each_tracer(emulator_cli: Cli, tmp_path: Path, tracer: str) -> None:
    def cli(*args: str, check: bool = True):  # type: ignore[no-untyped-def]
        return emulator_cli("--lab", f"lab-{tracer}", *args, check=check)

    def as_json(*args: str):  # type: ignore[no-untyped-def]
        return json.loads(cli(*args, "--output", "json").stdout)

    cli("setup", "--tracer", tracer)
    assert as_json("status")["tracer"] == tracer
    described = "the X-Ray SDK" if tracer == "xray" else "OpenTelemetry"
    assert f"function traced with {described} (--tracer {tracer})" in cli("status").stdout
    assert as_json("test")[0]["ok"]
    cli("break-bucket")
    assert cli("test", check=False).returncode == 1

    faults = [t for t in as_json("traces", "--errors")["traces"] if t["fault"]]
    assert faults
    cause = faults[0]["root_cause"]
    assert cause["segment"] == "save_dog_to_s3"
    assert _exception_is_no_such_bucket(cause["exception"]), cause
    trace = cli("trace", faults[0]["id"]).stdout
    assert "save_dog_to_s3" in trace and "PutObject" in trace and "NoSuchBucket" in trace
    assert as_json("trace", faults[0]["id"])["root_cause"] == cause
    # The X-Ray SDK records the bucket, so X-Ray names S3's node after it; OpenTelemetry's
    # botocore spans carry no bucket the conversion reads, so the node is plain `S3`.
    s3 = "aws-bucket" if tracer == "xray" else "S3"
    stats = {n["name"]: n for n in as_json("map")["nodes"]}[s3]["stats"]
    assert stats["fault"] + stats["error"] >= 1
    node = as_json("map", "--node", s3)
    assert _exception_is_no_such_bucket(node["exceptions"][0]["type"])
    analysis = as_json("analyze")
    assert analysis["traces"] >= 2
    assert _exception_is_no_such_bucket(analysis["faulty"]["exceptions"][0]["type"])
    report = cli("report", "--file", str(tmp_path / f"{tracer}.html"))
    assert report.stdout.startswith("report of 2 traces (1 fault)"), report.stdout
    assert "NoSuchBucket" in cli("logs", "--trace", faults[0]["id"]).stdout

    cli("fix-bucket")
    assert as_json("test")[0]["ok"]
    cli("cleanup", "--yes")
    assert [r for r in as_json("status")["resources"] if r["exists"]] == []


@pytest.mark.slow
def test_setup_switches_an_xray_lab_to_opentelemetry(emulator_cli: Cli) -> None:
    def cli(*args: str):  # type: ignore[no-untyped-def]
        return emulator_cli("--lab", "lab-switch", *args)

    cli("setup")
    switched = cli("setup", "--tracer", "otel")
    assert (
        "the function is traced with the X-Ray SDK: redeploying it traced with OpenTelemetry"
        in switched.stderr
    )
    status = json.loads(cli("status", "--output", "json").stdout)
    assert status["tracer"] == "otel"
    assert not [r for r in status["resources"] if r["drift"]]
    assert json.loads(cli("test", "--output", "json").stdout)[0]["ok"]
    assert "redeploying" not in cli("setup").stderr  # kept: nothing to switch
    cli("cleanup", "--yes")


@pytest.mark.slow
def test_demo_local_triage_with_opentelemetry(tmp_path: Path) -> None:
    """The lab and the triage lab (inject, load, analyze, metrics) read OpenTelemetry's
    traces: analyze names the injected subsegment and exception."""
    result = Cli(base_env(tmp_path))("demo", "--local", "--triage", "--tracer", "otel")
    assert "demo passed: every stage checked" in result.stdout
    assert "failed with injection.InjectedFailure on injected_fault" in result.stderr
    assert "traced with OpenTelemetry" in result.stderr
    assert "root cause: save_dog_to_s3 raised botocore.errorfactory.NoSuchBucket" in (result.stderr)
    assert "nothing is left under the lab's names and tags" in result.stderr
