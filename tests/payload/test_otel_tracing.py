"""The payload's OpenTelemetry tracing (groundwork for `--tracer otel`): spans of one lab
request under Lambda's function segment, sent to the daemon address as ADOT frames them,
and read back by the emulator's daemon code (`dogxray.local.otlp`) as X-Ray documents.
The module patches nothing process-wide, so it runs in the test process."""

from __future__ import annotations

import importlib.util
import socket
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from dogxray.local import otlp

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
    monkeypatch: pytest.MonkeyPatch, daemon: socket.socket
) -> None:
    tracing = _load(monkeypatch, daemon, f"Root={ROOT};Parent={PARENT};Sampled=1")
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
    monkeypatch: pytest.MonkeyPatch, daemon: socket.socket, header: str
) -> None:
    tracing = _load(monkeypatch, daemon, header)
    with tracing.invocation(), tracing.subsegment("get_dog_images") as span:
        tracing.annotate(span, breed="corgi")  # a no-op on a span that is not recorded
    daemon.settimeout(0.3)
    with pytest.raises(TimeoutError):
        daemon.recv(65535)
