"""The emulator cleans up after itself: environments of deleted or changed functions stop
at once, the gateway takes 100 concurrent clients, and a client that hangs up is one log
line, not a traceback."""

from __future__ import annotations

import os
import socket
import struct
import threading
import time
from pathlib import Path

import pytest
import requests

from dogxray.local.runtime import BOOTSTRAP
from tests.local.conftest import Lab

HANDLER = {"app.py": "def handler(event, context):\n    return {'statusCode': 200, 'body': 'ok'}\n"}
SLOW = {
    "app.py": "import time\n"
    "def handler(event, context):\n"
    "    time.sleep(0.5)\n"
    "    return {'statusCode': 200, 'body': 'x' * 200000}\n"
}


def environment_pids() -> set[int]:
    """Running execution environments started by this process (bootstrap.py children)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            state, ppid = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
        except OSError:
            continue
        mine = str(BOOTSTRAP).encode() in cmdline and int(ppid) == os.getpid()
        if mine and state != "Z":
            found.add(int(entry.name))
    return found


pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def test_deleting_a_function_stops_its_environment_at_once(lab: Lab) -> None:
    before = environment_pids()
    name, url = lab.deploy(HANDLER)
    assert requests.get(url, timeout=30).status_code == 200
    started = environment_pids() - before
    assert len(started) == 1
    lab.client("lambda").delete_function(FunctionName=name)
    assert environment_pids() & started == set()  # gone when the API call returns


def test_changing_a_function_stops_its_environment_at_once(lab: Lab) -> None:
    before = environment_pids()
    name, url = lab.deploy(HANDLER)
    assert requests.get(url, timeout=30).status_code == 200
    started = environment_pids() - before
    assert len(started) == 1
    lab.client("lambda").update_function_configuration(FunctionName=name, Timeout=5)
    assert environment_pids() & started == set()
    assert requests.get(url, timeout=30).status_code == 200  # a new one starts cold
    lab.client("lambda").delete_function(FunctionName=name)
    assert environment_pids() - before == set()


@pytest.mark.slow
def test_delete_during_an_invocation_lets_it_finish_then_stops(lab: Lab) -> None:
    before = environment_pids()
    name, url = lab.deploy(SLOW)
    answers: list[int] = []
    client = threading.Thread(
        target=lambda: answers.append(requests.get(url, timeout=30).status_code)
    )
    client.start()
    deadline = time.monotonic() + 20
    while not environment_pids() - before and time.monotonic() < deadline:
        time.sleep(0.05)
    lab.client("lambda").delete_function(FunctionName=name)
    client.join(30)
    assert answers == [200]
    assert environment_pids() - before == set()


def test_100_concurrent_requests_complete_without_tracebacks(
    lab: Lab, capfd: pytest.CaptureFixture[str]
) -> None:
    name, url = lab.deploy(HANDLER)
    statuses: list[int | str] = []
    lock = threading.Lock()

    def get() -> None:
        try:
            result: int | str = requests.get(url, timeout=60).status_code
        except requests.ConnectionError as exc:  # a clean refusal is acceptable
            result = f"refused: {type(exc).__name__}"
        with lock:
            statuses.append(result)

    threads = [threading.Thread(target=get) for _ in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    lab.client("lambda").delete_function(FunctionName=name)
    err = capfd.readouterr().err
    assert len(statuses) == 100
    # beyond the account concurrency limit Lambda throttles (429), as the emulator does
    assert all(s in (200, 429) or str(s).startswith("refused") for s in statuses), statuses
    assert statuses.count(200) >= 1
    print(f"100 concurrent: {statuses.count(200)} ok, {statuses.count(429)} throttled")
    assert "Traceback" not in err


@pytest.mark.slow
def test_a_client_that_hangs_up_is_one_log_line(
    lab: Lab, capfd: pytest.CaptureFixture[str]
) -> None:
    name, url = lab.deploy(SLOW)
    host, port = url.removeprefix("http://").split("/", 1)[0].split(":")
    path = "/" + url.removeprefix("http://").split("/", 1)[1]
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    # the function runs 0.5 s, then the gateway writes to a reset connection
    deadline = time.monotonic() + 20
    err = ""
    while "disconnected" not in err and time.monotonic() < deadline:
        time.sleep(0.2)
        err += capfd.readouterr().err
    lab.client("lambda").delete_function(FunctionName=name)
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if "disconnected" in line]
    assert len(lines) == 1
    assert lines[0].startswith("dogxray emulator: client 127.0.0.1:")
    assert lines[0].endswith("disconnected before the answer (ConnectionResetError)") or lines[
        0
    ].endswith("disconnected before the answer (BrokenPipeError)")
