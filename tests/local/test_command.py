"""`dogxray local` in the foreground, as a user runs it; and the offline Dog API."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
import requests

from dogxray.local.dog_api import bundled_dogs
from tests.helpers import TRUST
from tests.lines import LineReader, ctrl_c_reaches_the_child
from tests.local.conftest import Lab


def _start(*args: str, tmpdir: Path | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    if tmpdir is not None:
        env["TMPDIR"] = str(tmpdir)
    return subprocess.Popen(
        [sys.executable, "-m", "dogxray", "local", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=ctrl_c_reaches_the_child,
    )


def _exports(proc: subprocess.Popen[str]) -> dict[str, str]:
    assert proc.stdout is not None
    reader = LineReader(proc.stdout)
    lines = [reader.readline(timeout=60).strip() for _ in range(6)]
    assert all(line.startswith("export ") for line in lines), lines
    return dict(line.removeprefix("export ").split("=", 1) for line in lines)


def _socket_addresses(pid: int) -> set[str]:
    """Local addresses (hex ip:port as in /proc/net) of the TCP listeners and UDP sockets
    the process holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    found = set()
    for table in ("tcp", "tcp6", "udp", "udp6"):
        rows = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        for row in rows:
            fields = row.split()
            listening = table.startswith("udp") or fields[3] == "0A"
            if fields[9] in inodes and listening:
                found.add(fields[1])
    return found


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in state  # exited, not yet reaped by init


PID_APP = """
import os
def handler(event, context):
    return {"statusCode": 200, "body": str(os.getpid())}
"""


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_local_serves_on_loopback_and_stops_leaving_nothing(
    stop: signal.Signals, tmp_path: Path
) -> None:
    proc = _start("--port", "0", tmpdir=tmp_path)
    try:
        exports = _exports(proc)
        assert exports["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
        assert {k: v for k, v in exports.items() if k != "AWS_ENDPOINT_URL"} == {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        endpoint = exports["AWS_ENDPOINT_URL"]
        sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1")
        assert sts.get_caller_identity()["Account"] == "123456789012"
        iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1")
        role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
        lab = Lab(emu=SimpleNamespace(endpoint_url=endpoint), role_arn=role["Role"]["Arn"])
        _, url = lab.deploy({"app.py": PID_APP})
        runtime_pid = int(requests.get(url, timeout=10).text)  # a warm environment now
        assert not _gone(runtime_pid)
        # Every server (AWS endpoint, gateway, Dog API, X-Ray daemon) is on 127.0.0.1.
        addresses = _socket_addresses(proc.pid)
        assert len(addresses) >= 4, addresses
        assert {a.split(":")[0] for a in addresses} == {"0100007F"}, addresses
        workdirs = list(tmp_path.glob("dogxray-local-*"))
        assert len(workdirs) == 1 and (workdirs[0] / "code").is_dir()
        proc.send_signal(stop)
        _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert err.strip().endswith("emulator stopped; its temporary files are removed")
    assert _gone(runtime_pid), "the execution environment outlived the emulator"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_local_on_a_busy_port_is_one_clear_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = _start("--port", str(port))
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert out == "" and "Traceback" not in err
    assert err.startswith(f"error: cannot listen on 127.0.0.1:{port}: Address already in use")
    assert "hint:" in err


def test_offline_dog_api_serves_bundled_images(lab: Lab) -> None:
    assert len(bundled_dogs()) >= 3
    seen = set()
    for _ in range(20):
        reply = requests.get(lab.emu.dog_api_url, timeout=5).json()
        assert reply["status"] == "success"
        seen.add(reply["message"])
    assert len(seen) > 1
    image = requests.get(sorted(seen)[0], timeout=5)
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/png"
    assert image.content.startswith(b"\x89PNG\r\n\x1a\n")
    base = lab.emu.dog_api_url.split("/api/")[0]
    assert requests.get(base + "/breeds/none/x.png", timeout=5).status_code == 404
    # A 404 does not leave the server stuck: the next request is answered (bounded wait).
    assert requests.get(lab.emu.dog_api_url, timeout=5).json()["status"] == "success"
