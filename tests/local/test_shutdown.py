"""Stopping `dogxray local` while requests run removes its whole temporary folder, and
says so only when it is true; the next start removes what an emulator left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
import requests

from dogxray.local import emulator
from dogxray.local.emulator import OWNER_FILE, remove_workdir, sweep_stale_workdirs
from tests.helpers import TRUST
from tests.lines import LineReader, ctrl_c_reaches_the_child
from tests.local.conftest import Lab

# Every request starts a new execution environment (the last one exits): files are being
# written in the emulator's folder all the time.
EXITING_APP = """
import os
def handler(event, context):
    os._exit(0)
"""


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.slow
def test_ctrl_c_under_load_removes_the_whole_folder(tmp_path: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1", "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dogxray", "local", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=ctrl_c_reaches_the_child,
    )
    stop = threading.Event()
    answered: list[int] = []
    try:
        assert proc.stdout is not None
        reader = LineReader(proc.stdout)
        lines = [reader.readline(timeout=60).strip() for _ in range(6)]
        exports = dict(line.removeprefix("export ").split("=", 1) for line in lines)
        endpoint = exports["AWS_ENDPOINT_URL"]
        iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1")
        role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
        lab = Lab(emu=SimpleNamespace(endpoint_url=endpoint), role_arn=role["Role"]["Arn"])
        names = [lab.deploy({"app.py": EXITING_APP})[1] for _ in range(3)]

        def hammer(url: str) -> None:  # keep-alive connections, as `dogxray load` has
            with requests.Session() as session:
                while not stop.is_set():
                    try:
                        answered.append(session.get(url, timeout=10).status_code)
                    except requests.RequestException:
                        time.sleep(0.01)

        workers = [
            threading.Thread(target=hammer, args=(names[i % 3],), daemon=True) for i in range(12)
        ]
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + 60
        while len(answered) < 30 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(answered) >= 30, answered
        (workdir,) = tmp_path.glob("dogxray-local-*")
        assert workdir.name.startswith(f"dogxray-local-{proc.pid}-")
        proc.send_signal(signal.SIGINT)  # requests still running and arriving
        _, err = proc.communicate(timeout=60)
    finally:
        stop.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert err.strip().endswith("emulator stopped; its temporary files are removed"), err
    time.sleep(0.5)  # a request thread that outlived the stop would write now
    assert list(tmp_path.iterdir()) == []


def test_sweep_finds_a_dead_emulators_folder_without_its_owner_file(tmp_path: Path) -> None:
    dead = tmp_path / f"dogxray-local-{_dead_pid()}-abc123"
    (dead / "code" / "x").mkdir(parents=True)
    (dead / "code" / "x" / "app.py").write_text("x = 1\n")
    live = tmp_path / f"dogxray-local-{os.getppid()}-def456"  # pytest's parent: running
    (live / "env").mkdir(parents=True)
    old_style = tmp_path / "dogxray-local-q1w2e3r4"  # no pid, no owner file: not judged
    (old_style / "env").mkdir(parents=True)
    assert sweep_stale_workdirs(tmp_path) == [dead]
    assert not dead.exists() and live.exists() and old_style.exists()


def test_a_folder_that_cannot_be_removed_keeps_its_owner_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "dogxray-local-1-x"
    (folder / "env" / "a").mkdir(parents=True)
    (folder / OWNER_FILE).write_text("1")

    def refuse(path: object, *_: object, **__: object) -> None:
        raise OSError(16, "Device or resource busy", str(path))

    monkeypatch.setattr(emulator.shutil, "rmtree", refuse)
    monkeypatch.setattr(emulator.time, "sleep", lambda _: None)
    assert remove_workdir(folder) == f"{folder / 'env'}: Device or resource busy"
    assert (folder / OWNER_FILE).read_text() == "1"  # the next start still recognises it
    monkeypatch.undo()
    assert remove_workdir(folder) == ""
    assert not folder.exists()
