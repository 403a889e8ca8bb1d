"""Execution environments die with the emulator: after SIGKILL of `dogxray local` (no
cleanup code runs) its children exit, idle or mid-invocation, and remove their temporary
directories; the next emulator start removes the dead emulator's directory."""

from __future__ import annotations

import io
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from dogxray.core.config import OFFLINE_ENV
from dogxray.local.emulator import OWNER_FILE, sweep_stale_workdirs
from dogxray.local.runtime import BOOTSTRAP
from tests.helpers import TRUST
from tests.helpers import wait_for as _wait_for

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def _children(parent: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            if ppid == parent and str(BOOTSTRAP).encode() in cmdline:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _start_emulator(tmp: Path) -> tuple[subprocess.Popen[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(OFFLINE_ENV, TMPDIR=str(tmp), NO_COLOR="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dogxray", "local", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    stdout = proc.stdout
    threading.Thread(target=lambda: [lines.put(x) for x in stdout], daemon=True).start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        if line.startswith("export AWS_ENDPOINT_URL="):
            return proc, line.strip().split("=", 1)[1]
    proc.kill()
    proc.wait()
    raise AssertionError("`dogxray local` did not print its endpoint within 60 s")


@pytest.mark.slow
def test_sigkilled_emulator_takes_its_environments_along(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    proc, endpoint = _start_emulator(tmp_path)
    try:
        for name, value in OFFLINE_ENV.items():
            monkeypatch.setenv(name, value)
        config = Config(read_timeout=120, retries={"max_attempts": 1})
        iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1")
        role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
        lam = boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1", config=config)
        for name, source, timeout in (
            ("idle", "def handler(e, c):\n    return 1\n", 3),
            ("busy", "import time\ndef handler(e, c):\n    time.sleep(100)\n", 120),
        ):
            lam.create_function(
                FunctionName=name,
                Runtime="python3.13",
                Role=role["Role"]["Arn"],
                Handler="app.handler",
                Code={"ZipFile": _zip(source)},
                Timeout=timeout,
            )
        assert lam.invoke(FunctionName="idle")["Payload"].read() == b"1"
        threading.Thread(
            target=lambda: _suppress(lambda: lam.invoke(FunctionName="busy")), daemon=True
        ).start()  # left running inside its handler
        assert _wait_for(lambda: len(_children(proc.pid)) == 2, 30)
        children = _children(proc.pid)
        (workdir,) = tmp_path.glob("dogxray-local-*")
        env_dirs = list((workdir / "env").iterdir())
        assert len(env_dirs) == 2
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert _wait_for(lambda: not any(_alive(pid) for pid in children), 30), [
        pid for pid in children if _alive(pid)
    ]
    # each environment removes its own folder, even one killed mid-init (a broken pipe)
    assert _wait_for(lambda: not any(d.exists() for d in env_dirs), 10), [
        d.name for d in env_dirs if d.exists()
    ]
    assert workdir.exists()  # SIGKILL ran no cleanup: the next start sweeps it
    assert sweep_stale_workdirs(tmp_path) == [workdir]
    assert not workdir.exists()


def test_sweep_keeps_the_directories_of_running_emulators(tmp_path: Path) -> None:
    live = tmp_path / "dogxray-local-live"
    live.mkdir()
    (live / OWNER_FILE).write_text(str(os.getppid()))  # pytest's parent: running
    foreign = tmp_path / "dogxray-local-foreign"
    foreign.mkdir()  # no owner file: not ours to judge
    assert sweep_stale_workdirs(tmp_path) == []
    assert live.exists() and foreign.exists()


def _suppress(call: Any) -> None:
    try:
        call()
    except Exception:
        return
