"""An endpoint that accepts TCP connections and never answers (a paused emulator) fails
fast with one message and a hint, instead of blocking for minutes."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from dogxray.app import app


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A loopback listener that accepts connections, reads, and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)  # keep it open, say nothing

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        server.close()


@pytest.mark.timeout(120)
def test_status_against_a_silent_endpoint_fails_with_a_hint(silent_endpoint: str) -> None:
    result = CliRunner().invoke(app, ["--endpoint-url", silent_endpoint, "status"])
    assert result.exit_code == 1, result.output
    assert result.output == (
        f"error: the endpoint {silent_endpoint} accepted the connection but did not answer "
        "within 10 s, tried 2 times\n"
        "hint: is the emulator paused (Ctrl-Z: resume it with `fg`) or stopped? restart "
        "`dogxray local`, or unset AWS_ENDPOINT_URL / --endpoint-url to use AWS\n"
    )
