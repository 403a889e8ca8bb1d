"""Fixtures for the payload: a stand-in Dog API, a local X-Ray daemon, Lambda mode for the
X-Ray SDK (touch file redirected into a temp dir), and a freshly loaded handler; the tests
that load it run in a child pytest process (tests/payload/child.py)."""

from __future__ import annotations

import importlib.util
import json
import socket
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pytest_httpserver import HTTPServer
from werkzeug import Response

from tests.payload import child

PAYLOAD_DIR = Path(__file__).resolve().parents[2] / "lambda_payload"
BUCKET = "lovely-dogs-test"
IMAGE_PATH = "/breeds/hound-afghan/n02088094_1003.jpg"
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40 + b"\xff\xd9"
TRACE_ROOT = "1-5759e988-bd862e3fe1be46a994272793"
TRACE_HEADER = f"Root={TRACE_ROOT};Parent=53995c3f42cd8ad8;Sampled=1"


def pytest_configure(config: pytest.Config) -> None:
    if child.in_child():
        config.pluginmanager.register(child.ReportWriter(config), "payload-child-reports")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    """The tests that load the handler run in a child pytest (tests/payload/child.py)."""
    if child.in_child() or not child.needs_child(item):
        return None
    child.run_in_child(item)
    # What pytest's own protocol does after a test: tear down the collectors (modules,
    # packages) set up for earlier tests that the next one does not need. Without it a
    # module fixture set up for the test before this one would outlive its module.
    item.session._setupstate.teardown_exact(nextitem)
    return True


@dataclass
class DogApi:
    """The stand-in Dog API: `/api/breeds/image/random` pointing at an image on itself."""

    server: HTTPServer
    url: str
    image_url: str
    image: bytes = JPEG

    def serve_image(self, path: str, body: bytes, content_type: str | None) -> str:
        """Point the API at a different image (path, bytes, Content-Type or none)."""
        self.server.clear()
        image_url = self.server.url_for(path)
        self.server.expect_request("/api/breeds/image/random").respond_with_json(
            {"message": image_url, "status": "success"}
        )
        response = Response(body, status=200, content_type=content_type)
        if content_type is None:
            del response.headers["Content-Type"]
        self.server.expect_request(path).respond_with_response(response)
        return image_url


@pytest.fixture
def dog_api(httpserver: HTTPServer) -> DogApi:
    api = DogApi(httpserver, httpserver.url_for("/api/breeds/image/random"), "")
    api.image_url = api.serve_image(IMAGE_PATH, JPEG, "image/jpeg")
    return api


@dataclass
class Daemon:
    """A local UDP X-Ray daemon: collects the JSON documents the SDK sends."""

    sock: socket.socket
    address: str
    docs: list[dict[str, Any]] = field(default_factory=list)

    def collect(self, timeout: float = 0.3) -> list[dict[str, Any]]:
        self.sock.settimeout(timeout)
        while True:
            try:
                data = self.sock.recv(65535)
            except TimeoutError:
                return self.docs
            header, _, body = data.decode("utf-8").partition("\n")
            assert json.loads(header) == {"format": "json", "version": 1}
            self.docs.append(json.loads(body))


@pytest.fixture
def xray_daemon() -> Iterator[Daemon]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield Daemon(sock, f"127.0.0.1:{sock.getsockname()[1]}")
    finally:
        sock.close()


@pytest.fixture
def lambda_mode(
    tmp_path: Path, xray_daemon: Daemon, make_lab: Callable[..., Lab]
) -> Iterator[Daemon]:
    """The SDK as Lambda runs it: facade segment from _X_AMZN_TRACE_ID, documents to the
    daemon. The recorder picks its mode when constructed, so it is re-initialised (after
    `make_lab` made the bucket, so that call is not in the trace)."""
    from aws_xray_sdk.core import lambda_launcher, xray_recorder

    touch_dir = tmp_path / "aws-xray"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lambda_launcher, "TOUCH_FILE_DIR", f"{touch_dir}/")
        mp.setattr(lambda_launcher, "TOUCH_FILE_PATH", str(touch_dir / "initialized"))
        mp.setenv("LAMBDA_TASK_ROOT", str(PAYLOAD_DIR))
        mp.setenv("_X_AMZN_TRACE_ID", TRACE_HEADER)
        mp.setenv("AWS_XRAY_DAEMON_ADDRESS", xray_daemon.address)
        xray_recorder.__init__()  # type: ignore[misc]
        try:
            yield xray_daemon
        finally:
            xray_recorder.clear_trace_entities()
    xray_recorder.__init__()  # type: ignore[misc]  # back to the plain (non-Lambda) mode
    assert (touch_dir / "initialized").exists()


def load_handler(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import lambda_function under a fresh name so its module-level clients are new."""
    monkeypatch.syspath_prepend(str(PAYLOAD_DIR))
    for tracer in ("xray_tracing", "otel_tracing"):
        monkeypatch.delitem(sys.modules, tracer, raising=False)
    monkeypatch.delitem(sys.modules, "tracing", raising=False)  # picks the tracer at import
    monkeypatch.delitem(sys.modules, "injection", raising=False)  # reads its env at import
    name = f"lambda_function_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, PAYLOAD_DIR / "lambda_function.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


@dataclass
class Lab:
    """A loaded handler inside moto, with its bucket and stand-in Dog API."""

    module: ModuleType
    s3: Any
    dog_api: DogApi
    calls: int = 0

    def invoke(self) -> dict[str, Any]:
        self.calls += 1
        context = SimpleNamespace(aws_request_id=f"req-{self.calls}")
        return self.module.lambda_handler({"rawPath": "/", "version": "2.0"}, context)

    def keys(self) -> list[str]:
        listing = self.s3.list_objects_v2(Bucket=BUCKET)
        return [item["Key"] for item in listing.get("Contents", [])]


@pytest.fixture
def make_lab(monkeypatch: pytest.MonkeyPatch, dog_api: DogApi) -> Iterator[Callable[..., Lab]]:
    """Build a `Lab` (call inside the test, after any env tweaks)."""
    monkeypatch.setenv("BUCKET_NAME", BUCKET)
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "false")  # S3 only here; 1 s a test
    monkeypatch.setenv("DOG_API_URL", dog_api.url)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)

        def make() -> Lab:
            return Lab(load_handler(monkeypatch), s3, dog_api)

        yield make


@pytest.fixture
def lab(make_lab: Callable[..., Lab]) -> Lab:
    return make_lab()


def log_lines(text: str) -> list[dict[str, Any]]:
    """The handler's JSON log lines in captured stdout."""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]
