"""The payload's OpenTelemetry tracing (`--tracer otel`): spans of one lab request under
Lambda's function segment, sent to the daemon address as ADOT frames them, and read back
by the emulator's daemon code (`dogxray.local.otlp`) as X-Ray documents. Loading the
module instruments `requests` and botocore process-wide, so these tests (they use the
`otel_payload` fixture) run in a child process (tests/payload/child.py)."""

from __future__ import annotations

import importlib.util
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import pytest
from botocore.exceptions import ClientError

from dogxray.local import otlp

from .conftest import Lab

PAYLOAD = Path(__file__).resolve().parents[2] / "lambda_payload" / "otel_tracing.py"
ROOT = "1-5759e988-bd862e3fe1be46a994272793"
PARENT = "53995c3f42cd8ad8"


@pytest.fixture
def daemon() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2)
    yield sock
    sock.close()


class Loader(Protocol):
    def __call__(self, header: str) -> ModuleType: ...


@pytest.fixture
def otel_payload(monkeypatch: pytest.MonkeyPatch, daemon: socket.socket) -> Loader:
    """Load the module (it instruments the clients) with this trace header."""
    return lambda header: _load(monkeypatch, daemon, header)


def _load(monkeypatch: pytest.MonkeyPatch, daemon: socket.socket, header: str) -> ModuleType:
    host, port = daemon.getsockname()
    monkeypatch.setenv("AWS_XRAY_DAEMON_ADDRESS", f"{host}:{port}")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "dog-photo-function")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", header)
    spec = importlib.util.spec_from_file_location("otel_tracing_under_test", PAYLOAD)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _received(daemon: socket.socket, count: int) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for _ in range(count):
        data = daemon.recv(65535)
        header, _, body = data.partition(b"\n")
        assert header == b'{"format":"json","version":1}' and body.startswith(b"T1S")
        docs += otlp.documents(body)
    return docs


class Broken(Exception):
    pass


def test_a_sampled_request_sends_its_spans_under_lambdas_segment(
    otel_payload: Loader, daemon: socket.socket
) -> None:
    tracing = otel_payload(f"Root={ROOT};Parent={PARENT};Sampled=1")
    with pytest.raises(Broken), tracing.invocation() as request:
        with tracing.subsegment("get_dog_images") as images:
            tracing.annotate(images, breed="corgi", image_bytes=1025)
            tracing.metadata(images, key="corgi_1002.png")
        with tracing.subsegment("save_dog_to_s3"):
            raise Broken("NoSuchBucket")
    assert request.is_recording() is False  # ended
    docs = {d["name"]: d for d in _received(daemon, 3)}
    handler = docs["dog-photo-function"]
    assert handler["trace_id"] == ROOT and handler["parent_id"] == PARENT
    images, save = docs["get_dog_images"], docs["save_dog_to_s3"]
    assert images["parent_id"] == save["parent_id"] == handler["id"]
    assert images["annotations"] == {"breed": "corgi", "image_bytes": 1025}
    assert images["metadata"]["default"]["key"] == "corgi_1002.png"
    assert save["fault"] is True
    assert save["cause"]["exceptions"][0]["type"].endswith("Broken")


@pytest.mark.parametrize(
    "header",
    [f"Root={ROOT};Parent={PARENT};Sampled=0", f"Root={ROOT}", ""],
    ids=["not-sampled", "pass-through", "none"],
)
def test_an_unsampled_request_sends_nothing(
    otel_payload: Loader, daemon: socket.socket, header: str
) -> None:
    tracing = otel_payload(header)
    with tracing.invocation(), tracing.subsegment("get_dog_images") as span:
        tracing.annotate(span, breed="corgi")  # a no-op on a span that is not recorded
    daemon.settimeout(0.3)
    with pytest.raises(TimeoutError):
        daemon.recv(65535)


@pytest.fixture
def otel_lab(
    otel_payload: Loader,
    monkeypatch: pytest.MonkeyPatch,
    daemon: socket.socket,
    make_lab: Callable[..., Lab],
) -> Lab:
    """The lab's handler with `DOGXRAY_TRACER=otel`, its spans to `daemon`."""
    host, port = daemon.getsockname()
    monkeypatch.setenv("DOGXRAY_TRACER", "otel")
    monkeypatch.setenv("AWS_XRAY_DAEMON_ADDRESS", f"{host}:{port}")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "dog-photo-function")
    monkeypatch.setenv("_X_AMZN_TRACE_ID", f"Root={ROOT};Parent={PARENT};Sampled=1")
    return make_lab()


def _all_received(daemon: socket.socket) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    daemon.settimeout(0.5)
    while True:
        try:
            data = daemon.recv(65535)
        except TimeoutError:
            return docs
        docs += otlp.documents(data.partition(b"\n")[2])


def test_the_handler_traces_its_http_and_s3_calls(otel_lab: Lab, daemon: socket.socket) -> None:
    """requests and botocore are instrumented: the two GETs nest under call_dog_api and
    the PutObject under save_dog_to_s3, as the X-Ray SDK's patch nests them."""
    assert otel_lab.invoke()["statusCode"] == 200
    docs = _all_received(daemon)
    by_id = {d["id"]: d for d in docs}
    [call] = [d for d in docs if d["name"] == "call_dog_api"]
    [save] = [d for d in docs if d["name"] == "save_dog_to_s3"]
    gets = [d for d in docs if d.get("parent_id") == call["id"]]
    assert [g["http"]["request"]["method"] for g in gets] == ["GET", "GET"]
    assert {g["namespace"] for g in gets} == {"remote"}
    [put] = [d for d in docs if d.get("parent_id") == save["id"]]
    assert (put["name"], put["namespace"], put["aws"]["operation"]) == ("S3", "aws", "PutObject")
    assert by_id[by_id[call["parent_id"]]["parent_id"]]["name"] == "dog-photo-function"


def test_an_s3_failure_is_on_the_put_and_on_save_dog_to_s3(
    otel_lab: Lab, daemon: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUCKET_NAME", "no-such-bucket-here")
    with pytest.raises(ClientError):
        otel_lab.invoke()
    docs = _all_received(daemon)
    [save] = [d for d in docs if d["name"] == "save_dog_to_s3"]
    [put] = [d for d in docs if d.get("parent_id") == save["id"]]
    assert put["error"] is True and put["http"]["response"]["status"] == 404
    assert save["fault"] is True
    assert save["cause"]["exceptions"][0]["type"].endswith("NoSuchBucket")
