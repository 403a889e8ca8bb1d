"""The emulator checks, before it patches anything, that the installed moto has every
part it patches or reads (dogxray/local/moto_surface.py); a moto without one stops the
start with one message naming the version and the part, and a hint (exit 1)."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from dogxray.core.config import OFFLINE_ENV
from dogxray.core.errors import DogxrayError
from dogxray.local import moto_surface


def test_the_installed_moto_has_every_part() -> None:
    assert moto_surface.missing() == []


def test_a_missing_part_is_named_with_the_moto_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        moto_surface,
        "PATCHED",
        (*moto_surface.PATCHED, ("moto.xray.models", "XRayBackend.renamed_in_moto_6")),
    )
    with pytest.raises(DogxrayError) as caught:
        moto_surface.check()
    assert caught.value.what == (
        f"the emulator cannot run on moto {version('moto')}: it lacks "
        "moto.xray.models.XRayBackend.renamed_in_moto_6"
    )
    assert caught.value.hint == (
        "install a moto dogxray supports: pip install 'moto[s3,xray]>=5.2.2,<6'"
    )
    assert caught.value.exit_code == 1


def test_a_missing_instance_field_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto_surface, "PATCHED", ())
    monkeypatch.setattr(moto_surface, "USED", ())
    monkeypatch.setattr(moto_surface, "INSTANCE_CHECKS", (("the traces field", lambda: False),))
    assert moto_surface.missing() == ["the traces field"]


_RUN_WITHOUT_A_PART = """
import sys
from moto.xray.models import XRayBackend
del XRayBackend.process_segment  # as if a moto release had renamed it
from dogxray.app import main
sys.argv = ["dogxray", "demo", "--local", "--yes"]
main()
"""


@pytest.mark.slow
def test_demo_local_on_a_moto_without_a_part_stops_before_patching(tmp_path: Path) -> None:
    """In a child process (the part is really deleted there): one error line and a hint,
    exit 1, no traceback, and the emulator's folder removed."""
    env = {**os.environ, **OFFLINE_ENV, "TMPDIR": str(tmp_path), "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-c", _RUN_WITHOUT_A_PART],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert (
        f"error: the emulator cannot run on moto {version('moto')}: it lacks "
        "moto.xray.models.XRayBackend.process_segment"
    ) in done.stderr
    assert "hint: install a moto dogxray supports: pip install 'moto[s3,xray]>=5.2.2,<6'" in (
        done.stderr
    )
    assert list(tmp_path.glob("dogxray-local-*")) == []


def test_the_supported_range_is_the_one_pyproject_installs() -> None:
    """The hint names the range pip installs (pyproject.toml), so the two cannot drift."""
    import re

    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert re.findall(r'"(moto\[[^"]+)"', pyproject) == [f"moto[s3,xray]{moto_surface.SUPPORTED}"]
