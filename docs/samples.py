"""Print the README's command samples from a real run of the current code on the emulator.

Starts `dogxray local` (as a user would, a subprocess on a free loopback port), runs the
lab's commands against it with the exported variables, and prints each command's stdout
under a `$ dogxray ...` line, ready to paste. Progress lines (stderr) are left out, as
in the README. Nothing is written outside a temporary directory.

    .venv-test/bin/python docs/samples.py [--columns 100] [--triage]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DOGXRAY = [sys.executable, "-m", "dogxray"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(tmp: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    port = _free_port()
    env = {**os.environ, "TMPDIR": str(tmp), "AWS_EC2_METADATA_DISABLED": "true"}
    proc = subprocess.Popen(
        [*DOGXRAY, "local", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    client = dict(env)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit(f"dogxray local ended: {proc.stderr.read() if proc.stderr else ''}")
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").strip().partition("=")
            client[name] = value
            if name == "AWS_EC2_METADATA_DISABLED":
                return proc, client
    raise SystemExit("dogxray local did not print its export lines within 60 s")


def _run(args: str, env: dict[str, str], *, show: bool = True) -> str:
    result = subprocess.run(
        [*DOGXRAY, *shlex.split(args)], capture_output=True, text=True, env=env, check=False
    )
    if show:
        print(f"$ dogxray {args}")
        print(result.stdout.rstrip("\n"))
        if result.returncode:
            print(f"[exit {result.returncode}]")
        print()
    return result.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--columns", type=int, default=100)
    parser.add_argument("--triage", action="store_true", help="also the triage lab's samples")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dogxray-samples-") as tmp:
        proc, env = _start(Path(tmp))
        env["COLUMNS"] = str(options.columns)
        try:
            _run("setup", env)
            _run("status", env)
            _run("test --count 3", env, show=False)
            _run("break-bucket", env)
            _run("test", env)
            _run("fix-bucket", env, show=False)
            _run("test", env, show=False)
            _run("traces", env)
            faults = json.loads(_run("traces --errors --output json", env, show=False))
            if faults["traces"]:
                _run(f"trace {faults['traces'][0]['id']}", env)
            _run("map", {**env, "COLUMNS": "80"})
            _run("map --node aws-bucket", {**env, "COLUMNS": "80"})
            if options.triage:
                _run("inject --latency 2s --failure-rate 0.3", env)
                _run("load --requests 100 --concurrency 5", env)
                _run("analyze", env)
                _run("metrics --since 15m", env)
                _run("inject --off", env)
            _run("--lab other setup --bucket lovely-dogs-123456789012-us-east-1", env, show=False)
            _run("labs", env)
            _run("cleanup --dry-run", env)
            _run("cleanup --yes", env)
            _run("cleanup --all-labs --yes", env)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
