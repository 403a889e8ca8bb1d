"""The X-Ray SDK's patch of `requests` and botocore stays in the child process that ran
the handler tests (tests/payload/child.py): this process is never patched."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.payload import child
from tests.payload.conftest import PAYLOAD_DIR


def test_the_handler_tests_ran_in_a_child_and_patched_nothing_here(
    request: pytest.FixtureRequest,
) -> None:
    assert not child.in_child()
    assert child.client_patches() == []
    assert "xray_tracing" not in sys.modules and "otel_tracing" not in sys.modules
    assert not [m for m in sys.modules if m.startswith("lambda_function")]
    handler_tests = [i.nodeid for i in request.session.items if child.needs_child(i)]
    if not handler_tests:
        return  # run on its own: nothing to have run elsewhere
    runs = request.config.stash.get(child.RUNS, {})
    ran = [nodeid for run in runs.values() for nodeid in run.reports]
    assert all(run.pid != os.getpid() for run in runs.values())
    # the files this process ran (under pytest-xdist a worker runs some of them)
    files = {path.name for path in runs}
    expected = [n for n in handler_tests if n.split("::")[0].rsplit("/", 1)[-1] in files]
    assert sorted(ran) == sorted(expected), [run.output[-2000:] for run in runs.values()]


def _patches_on_import(module: str) -> list[list[str]]:
    """`client_patches()` in a fresh process before and after it imports `module` from the
    payload (with the payload on the path, as Lambda's)."""
    code = (
        "import json\n"
        "from tests.payload.child import client_patches\n"
        "before = client_patches()\n"
        f"import {module}\n"
        "print(json.dumps([before, client_patches()]))\n"
    )
    path = os.pathsep.join([str(PAYLOAD_DIR.parent), str(PAYLOAD_DIR)])
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    found: list[list[str]] = json.loads(result.stdout)
    return found


def test_the_check_sees_the_sdks_patch() -> None:
    """`client_patches` is not blind: a process that loads the payload's tracing is patched."""
    assert _patches_on_import("xray_tracing") == [
        [],
        [
            "requests.Session.request",
            "requests.Session.prepare_request",
            "botocore.client.BaseClient._make_api_call",
            "botocore.endpoint.Endpoint.prepare_request",
            "aws_xray_sdk patched botocore",
            "aws_xray_sdk patched requests",
        ],
    ]


def test_the_check_sees_opentelemetrys_instrumentation() -> None:
    """... and one that loads the OpenTelemetry tracing is patched too."""
    assert _patches_on_import("otel_tracing") == [
        [],
        [
            "requests.Session.send",
            "botocore.client.BaseClient._make_api_call",
            "botocore.endpoint.Endpoint.prepare_request",
        ],
    ]
