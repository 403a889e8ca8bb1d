"""Shared bench plumbing: a moto server on loopback, dummy credentials, and the AWS CLI
installed from the package index into the bench's own virtual environment (it is not a
project dependency)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import venv
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dogxray.core.config import OFFLINE_ENV
from dogxray.local.moto_server import loopback_moto_server

DUMMY_ENV = {**OFFLINE_ENV, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true", "AWS_PAGER": ""}


def dummy_env() -> dict[str, str]:
    """os.environ with dummy credentials and no metadata probing; also applied in-process."""
    os.environ.update(DUMMY_ENV)
    for name in ("AWS_PROFILE", "AWS_REGION"):
        os.environ.pop(name, None)
    return dict(os.environ)


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto server on 127.0.0.1 (random port); yields its URL."""
    dummy_env()
    with loopback_moto_server() as url:
        yield url


def _bench_tool(package: str, command: str) -> list[str]:
    """`command` of `package` from a bench-only venv (created once in the temp dir)."""
    home = Path(tempfile.gettempdir()) / f"dogxray-bench-{package}"
    exe = home / "bin" / command
    if not exe.exists():
        print(f"installing {package} into a bench venv ...", file=sys.stderr)
        venv.create(home, with_pip=True)
        subprocess.run([str(home / "bin" / "pip"), "install", "-q", package], check=True)
    return [str(exe)]


def aws_cli() -> list[str]:
    """The `aws` command (awscli) from a bench-only venv."""
    return _bench_tool("awscli", "aws")


def sam_cli() -> list[str]:
    """The `sam` command (aws-sam-cli) from a bench-only venv."""
    return _bench_tool("aws-sam-cli", "sam")


def run_aws_cli(args: list[str], endpoint: str) -> subprocess.CompletedProcess[str]:
    """One AWS CLI call against `endpoint` with dummy credentials; raises on failure."""
    return subprocess.run(
        [*aws_cli(), "--endpoint-url", endpoint, "--output", "json", *args],
        check=True,
        capture_output=True,
        text=True,
        env=dummy_env(),
    )


def run_dogxray(
    endpoint: str, env: dict[str, str], *args: str, source: Path | None = None
) -> tuple[float, Counter[str], str]:
    """One `dogxray --debug ...` run as a subprocess: wall time, its API calls by
    operation (from the `[api]` lines; threads may share a line), stdout. `source`: a
    checkout whose `dogxray` package runs instead (`python -m` imports from its
    working directory first), on this environment's dependencies."""
    began = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "dogxray", "--endpoint-url", endpoint, "--debug", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=source,
    )
    wall = time.perf_counter() - began
    if proc.returncode != 0:
        raise SystemExit(f"dogxray {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    calls: Counter[str] = Counter()
    for line in proc.stderr.splitlines():
        for part in line.split("[api] ")[1:]:
            calls[part.split()[0]] += 1
    return wall, calls, proc.stdout


def export_revision(revision: str, where: Path) -> Path:
    """The repository's tree at `revision` (git archive) in `where`; returns `where`."""
    where.mkdir(parents=True, exist_ok=True)
    repo = Path(__file__).resolve().parent.parent
    tree = subprocess.run(
        ["git", "-C", str(repo), "archive", revision], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(where)], input=tree, check=True)
    return where
