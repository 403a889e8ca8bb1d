"""`dogxray local` in the foreground, as a user runs it; and the offline Dog API."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import boto3
import pytest
import requests

from dogxray.local.dog_api import bundled_dogs
from tests.local.conftest import Lab


def _start(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "dogxray", "local", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _exports(proc: subprocess.Popen[str]) -> dict[str, str]:
    assert proc.stdout is not None
    lines = [proc.stdout.readline().strip() for _ in range(6)]
    assert all(line.startswith("export ") for line in lines), lines
    return dict(line.removeprefix("export ").split("=", 1) for line in lines)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_local_prints_exports_serves_and_stops_cleanly(stop: signal.Signals) -> None:
    proc = _start("--port", "0")
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
        sts = boto3.client("sts", endpoint_url=exports["AWS_ENDPOINT_URL"], region_name="us-east-1")
        assert sts.get_caller_identity()["Account"] == "123456789012"
        proc.send_signal(stop)
        _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert err.strip().endswith("emulator stopped; its temporary files are removed")


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
    started = time.monotonic()
    requests.get(lab.emu.dog_api_url, timeout=5)
    assert time.monotonic() - started < 1
