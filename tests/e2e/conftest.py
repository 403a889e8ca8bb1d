"""End to end: the real CLI in subprocesses against the embedded emulator, which runs
in its own process (`dogxray local`) exactly as a user would start it."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.e2e.e2e_cli import Cli, base_env
from tests.lines import LineReader


@pytest.fixture(scope="module")
def emulator_cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    """`dogxray local` in a background process; a Cli whose env has its export lines."""
    yield from local_cli(tmp_path_factory)


@pytest.fixture(scope="module")
def transaction_search_cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    """`dogxray local --transaction-search`: an account whose spans go to CloudWatch Logs."""
    yield from local_cli(tmp_path_factory, "--transaction-search")


def local_cli(tmp_path_factory: pytest.TempPathFactory, *args: str) -> Iterator[Cli]:
    """`--port 0`: the emulator binds a free port itself and says which in its export
    lines (a port picked here first could be taken by another worker before it binds)."""
    tmp = tmp_path_factory.mktemp("e2e")
    env = base_env(tmp)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dogxray", "local", "--port", "0", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    exports: dict[str, str] = {}
    deadline = time.monotonic() + 60
    assert proc.stdout is not None
    reader = LineReader(proc.stdout)
    while "AWS_ENDPOINT_URL" not in exports or len(exports) < 5:
        try:
            line = reader.readline(timeout=max(0.0, deadline - time.monotonic()))
        except AssertionError:
            line = ""
        if not line:
            proc.kill()
            raise AssertionError(f"`dogxray local` did not start: {proc.stderr.read()}")
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").strip().partition("=")
            exports[name] = value
    assert re.fullmatch(r"http://127\.0\.0\.1:[1-9][0-9]*", exports["AWS_ENDPOINT_URL"])
    try:
        yield Cli({**env, **exports})
    finally:
        proc.terminate()
        code = proc.wait(timeout=30)
        assert code == 0, f"`dogxray local` exited {code} on SIGTERM"
