"""The console entry point (`dogxray/__main__.py`): a command starts with the cyclic
garbage collector paused; after the grace period it collects again (what exists then
frozen out of its work); when the command ends, the collector is as it was."""

from __future__ import annotations

import gc
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

import dogxray.__main__ as entry
import dogxray.app


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    yield
    gc.unfreeze()
    gc.enable()


def _command(seconds: float, seen: list[bool]) -> None:
    seen.append(gc.isenabled())
    time.sleep(seconds)
    seen.append(gc.isenabled())


def test_a_short_command_runs_without_the_collector(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    monkeypatch.setattr(dogxray.app, "main", lambda: _command(0.01, seen))
    entry.main()
    assert seen == [False, False]
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_a_long_command_collects_after_the_grace_period(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    monkeypatch.setattr(entry, "GRACE_S", 0.05)
    monkeypatch.setattr(dogxray.app, "main", lambda: _command(0.5, seen))
    entry.main()
    assert seen == [False, True]
    assert gc.get_freeze_count() > 0  # start-up's objects left out of later collections


def test_a_failing_command_leaves_the_collector_on(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail() -> None:
        raise SystemExit(2)

    monkeypatch.setattr(dogxray.app, "main", fail)
    with pytest.raises(SystemExit):
        entry.main()
    assert gc.isenabled()


def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dogxray", "--version"], capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stdout) == (0, f"dogxray {dogxray.__version__}\n")
