"""Test-wide guard rails: dummy credentials, no instance-metadata probing, no real
AWS config, a private cache, no traffic to anything but loopback; plus the fixtures more
than one directory uses. Shared helpers that are not fixtures: tests/helpers.py."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from dogxray.core.config import OFFLINE_ENV

DUMMY_ENV = {
    **OFFLINE_ENV,
    # moto loads the AWS-managed IAM policies only where a test opts in (`--policy console`:
    # the `console_lab` fixture; the emulator sets it for itself): ~2 s per test otherwise.
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "false",
    "NO_COLOR": "1",
    "COLUMNS": "120",
    "TERM": "dumb",
}
UNSET = ("AWS_PROFILE", "AWS_REGION", "AWS_ENDPOINT_URL", "AWS_DEFAULT_PROFILE")

# Session-scoped servers (moto, the emulator) start before function fixtures run.
os.environ.update(DUMMY_ENV)
for _name in UNSET:
    os.environ.pop(_name, None)


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    home = tmp_path_factory.mktemp("home")
    for key, value in DUMMY_ENV.items():
        monkeypatch.setenv(key, value)
    for key in UNSET:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "aws-credentials"))
    monkeypatch.setenv("DOGXRAY_CACHE_DIR", str(home / "cache"))


def _is_loopback(address: object) -> bool:
    if not isinstance(address, tuple) or not address:
        return True  # AF_UNIX paths and the like
    host = str(address[0])
    return host in ("localhost", "::1") or host.startswith("127.")


@pytest.fixture(autouse=True)
def loopback_only(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail any test (not marked `network`) that connects to a non-loopback address."""
    if request.node.get_closest_marker("network"):
        yield
        return
    original = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
            raise AssertionError(f"test tried to reach a non-loopback address: {address}")
        return original(self, address)

    socket.socket.connect = guarded  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.socket.connect = original  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A moto server on 127.0.0.1 (random port) for end-to-end style tests; yields its URL.

    Tests sharing it must use their own lab names / buckets, or reset it with
    `requests.post(url + "/moto-api/reset")`.
    """
    from dogxray.local.moto_server import loopback_moto_server

    with loopback_moto_server() as url:
        yield url


@pytest.fixture
def aws_mock() -> Iterator[Any]:
    """An `Aws` on in-process moto (no endpoint: behaves like real AWS for scoping)."""
    from moto import mock_aws

    from dogxray.core.aws import Aws
    from dogxray.core.config import Settings

    with mock_aws():
        yield Aws(Settings.from_options(region="us-east-1"))
