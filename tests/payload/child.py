"""The payload's handler tests run in one child pytest process, never in the test process.

Loading `lambda_payload` patches `requests` and botocore process-wide (aws-xray-sdk's
`patch(("botocore", "requests"))`, or OpenTelemetry's instrumentations), which would leak
into every later test. So the tests that load the handler or its tracing (those using
the `make_lab`, `lambda_mode` or `otel_payload` fixtures) are run
together, once per test file (pytest-xdist gives a file to one worker), by
`sys.executable -m pytest <their ids>`; the child writes its
test reports as JSON lines (pytest's own serialisation, as pytest-xdist does) and the
parent replays them as if they had run here: same ids, outcomes, output and durations.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
CHILD_ENV = "DOGXRAY_TESTS_PAYLOAD_CHILD"  # set in the child: run the tests, write reports
REPORTS_ENV = "DOGXRAY_TESTS_PAYLOAD_REPORTS"  # the JSON-lines file the child writes
# They load the handler, or the OpenTelemetry tracing that instruments the same clients.
HANDLER_FIXTURES = frozenset({"make_lab", "lambda_mode", "otel_payload"})
CHILD_TIMEOUT_S = 240  # the child's whole run (its tests have their own timeouts too)
# What aws-xray-sdk wraps when it patches requests and botocore (and, `Session.send` and
# `_make_api_call`, what OpenTelemetry's instrumentations wrap).
PATCH_TARGETS = (
    ("requests", "Session.send"),
    ("requests", "Session.request"),
    ("requests", "Session.prepare_request"),
    ("botocore.client", "BaseClient._make_api_call"),
    ("botocore.endpoint", "Endpoint.prepare_request"),
)


@dataclass
class ChildRun:
    """One child pytest run: its reports by test id, its pid and how it ended."""

    pid: int
    returncode: int
    output: str
    reports: dict[str, list[pytest.TestReport]] = field(default_factory=dict)


RUNS = pytest.StashKey[dict[Path, ChildRun]]()  # by test file


def in_child() -> bool:
    return os.environ.get(CHILD_ENV) == "1"


def needs_child(item: pytest.Item) -> bool:
    """Whether the test is one of this directory's that load the handler (and with it the
    SDK's patch); tests/lab has a `make_lab` fixture of its own."""
    in_here = item.path.is_relative_to(HERE)
    return in_here and bool(HANDLER_FIXTURES.intersection(getattr(item, "fixturenames", ())))


def client_patches() -> list[str]:
    """What aws-xray-sdk or OpenTelemetry has patched in this process ([] when nothing)."""
    import importlib

    found = []
    for module_name, qualname in PATCH_TARGETS:
        owner: Any = importlib.import_module(module_name)
        *classes, name = qualname.split(".")
        for part in classes:
            owner = getattr(owner, part)
        member = vars(owner).get(name)  # the class's own entry, not a bound method
        wrapped = type(member).__name__ == "FunctionWrapper"  # what wrapt installs
        if wrapped or getattr(member, "opentelemetry_instrumentation_requests_applied", False):
            found.append(f"{module_name}.{qualname}")
    patcher = sys.modules.get("aws_xray_sdk.core.patcher")
    found += [f"aws_xray_sdk patched {m}" for m in sorted(getattr(patcher, "_PATCHED_MODULES", ()))]
    return found


class ReportWriter:
    """The child's plugin: every test report, appended to the parent's file."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        hook = self.config.hook
        data = hook.pytest_report_to_serializable(config=self.config, report=report)
        with open(os.environ[REPORTS_ENV], "a", encoding="utf-8") as out:
            out.write(json.dumps(data) + "\n")


def run_in_child(item: pytest.Item) -> None:
    """In the parent: report `item` from its file's child run (started now if this is
    the file's first such test)."""
    runs = item.config.stash.setdefault(RUNS, {})
    run = runs.get(item.path)
    if run is None:
        run = runs[item.path] = _run_child(item)
    reports = run.reports.get(item.nodeid) or [_missing(item, run)]
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    for report in reports:
        item.ihook.pytest_runtest_logreport(report=report)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)


def _run_child(item: pytest.Item) -> ChildRun:
    config = item.config
    ids = [i.nodeid for i in item.session.items if needs_child(i) and i.path == item.path]
    with tempfile.TemporaryDirectory(prefix="dogxray-payload-") as tmp:
        reports_file = Path(tmp) / "reports.jsonl"
        reports_file.touch()
        env = {**os.environ, CHILD_ENV: "1", REPORTS_ENV: str(reports_file)}
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(config.rootpath), env.get("PYTHONPATH")])
        )
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            f"--basetemp={Path(tmp) / 'basetemp'}",
            f"--rootdir={config.rootpath}",
            *ids,
        ]
        proc = subprocess.Popen(
            command,
            cwd=config.rootpath,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            output, _ = proc.communicate(timeout=CHILD_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
            output += f"\n(the child pytest was killed after {CHILD_TIMEOUT_S} s)"
        run = ChildRun(proc.pid, proc.returncode, output)
        for line in reports_file.read_text(encoding="utf-8").splitlines():
            data = json.loads(line)
            report = config.hook.pytest_report_from_serializable(config=config, data=data)
            run.reports.setdefault(report.nodeid, []).append(report)
    return run


def _missing(item: pytest.Item, run: ChildRun) -> pytest.TestReport:
    """A failure for a test the child did not report (it crashed, hung or did not collect)."""
    return pytest.TestReport(
        item.nodeid,
        item.location,
        {item.name: 1},
        "failed",
        f"the child pytest (pid {run.pid}, exit {run.returncode}) did not report this test:"
        f"\n{run.output[-4000:]}",
        "call",
    )
