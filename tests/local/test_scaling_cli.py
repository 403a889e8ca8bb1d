"""`dogxray local --concurrency N` as a user runs it: N environments at most, 429 beyond,
and not one subprocess left once it stops; a bad limit is one clear usage error."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest

from tests.helpers import TRUST, wait_for
from tests.local.conftest import Lab
from tests.local.test_command import _exports, _start
from tests.local.test_orphans import _alive, _children
from tests.local.test_scaling import HOLD, Held

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


@pytest.mark.slow
def test_local_with_a_concurrency_limit_throttles_and_leaves_nothing(tmp_path: Path) -> None:
    proc = _start("--port", "0", "--concurrency", "2", tmpdir=tmp_path)
    try:
        endpoint = _exports(proc)["AWS_ENDPOINT_URL"]
        iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1")
        role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
        lab = Lab(emu=SimpleNamespace(endpoint_url=endpoint), role_arn=role["Role"]["Arn"])
        gate = tmp_path / "gate"
        _, url = lab.deploy({"app.py": HOLD}, timeout=60, env={"GATE": str(gate)})
        held = Held(url, gate, 3)
        assert wait_for(lambda: held.statuses() == [429] and len(_children(proc.pid)) == 2)
        children = _children(proc.pid)
        assert sorted(r.status_code for r in held.open()) == [200, 200, 429]
        assert _children(proc.pid) == children  # both warm, none more
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "up to 2 concurrent execution environments" in err
    assert wait_for(lambda: not any(_alive(pid) for pid in children), 10)


def test_a_bad_concurrency_limit_is_a_usage_error(tmp_path: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1", "DOGXRAY_LOCAL_CONCURRENCY": "lots"}
    proc = subprocess.run(
        [sys.executable, "-m", "dogxray", "local", "--port", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines()[0] == (
        "error: DOGXRAY_LOCAL_CONCURRENCY lots is not a concurrency limit"
    )
    assert "hint: give a whole number from 1 to 100 (default 10)" in proc.stderr
    assert "Traceback" not in proc.stderr
