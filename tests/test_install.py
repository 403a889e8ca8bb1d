"""The wheel users install carries the function and runs `dogxray package` away from the
clone. Marked `network`: the fresh virtual environment gets its dependencies from the
package index (pip's cache makes a second run quick)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from dogxray.core.config import OFFLINE_ENV

REPO = Path(__file__).resolve().parents[1]


def _source_packages() -> set[str]:
    """Every package directory of dogxray in the source tree (they must all ship)."""
    return {
        "/".join(p.parent.relative_to(REPO).parts)
        for p in (REPO / "dogxray").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }


@pytest.mark.slow
@pytest.mark.network
@pytest.mark.timeout(600)
def test_wheel_carries_the_payload_and_runs_package_outside_the_clone(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(REPO)],
        check=True,
        timeout=300,
    )
    (wheel,) = dist.glob("dogxray-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    payload = {n.removeprefix("dogxray/_payload/") for n in names if "/_payload/" in n}
    assert {"lambda_function.py", "xray_tracing.py", "requirements.txt"} <= payload
    shipped = {n.rsplit("/", 1)[0] for n in names if n.endswith("/__init__.py")}
    assert _source_packages() <= shipped

    venv = tmp_path / "v"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", str(wheel)],
        check=True,
        timeout=600,
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**os.environ, **OFFLINE_ENV, "DOGXRAY_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("AWS_ENDPOINT_URL", None)
    done = subprocess.run(
        [str(venv / "bin" / "dogxray"), "package", "--from-env"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("path:           function.zip\n")
    with zipfile.ZipFile(work / "function.zip") as built:
        inside = built.namelist()
    assert "lambda_function.py" in inside and "aws_xray_sdk/__init__.py" in inside
    where = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import dogxray.packaging.build as p; print(p.PAYLOAD_DIR)",
        ],
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.strip().startswith(str(venv))  # not the clone's lambda_payload/
