"""A threaded HTTP server on loopback, run in a daemon thread (gateway, Dog API)."""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

HOST = "127.0.0.1"
BACKLOG = 128  # socketserver's default of 5 drops connections at ~100 concurrent clients
DISCONNECTS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


class _Server(ThreadingHTTPServer):
    request_queue_size = BACKLOG
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up before its answer is one line, not a traceback."""
        exc = sys.exc_info()[1]
        if isinstance(exc, DISCONNECTS):
            host, port = client_address[:2]
            print(
                f"dogxray emulator: client {host}:{port} disconnected before the answer "
                f"({type(exc).__name__})",
                file=sys.stderr,
            )
            return
        super().handle_error(request, client_address)


class QuietHandler(BaseHTTPRequestHandler):
    """No access log on stderr (the CLI owns the terminal); fast HTTP/1.1 keep-alive."""

    protocol_version = "HTTP/1.1"
    # Headers and body are separate writes: without TCP_NODELAY a keep-alive client
    # waits ~40 ms per request (Nagle + delayed ACK).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        return

    def send_response(self, code: int, message: str | None = None) -> None:
        """HTTP/1.0 keep-alive (`ab -k`) needs the server to say it keeps the connection,
        or the client waits for a close that never comes."""
        super().send_response(code, message)
        if self.request_version == "HTTP/1.0" and not self.close_connection:
            self.send_header("Connection", "keep-alive")

    def reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


_S = TypeVar("_S", bound="LoopbackServer")


class LoopbackServer:
    """`ThreadingHTTPServer` bound to 127.0.0.1 (port 0 = any free port)."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], port: int = 0) -> None:
        self.httpd = _Server((HOST, port), handler)
        self.port = int(self.httpd.server_address[1])
        self.url = f"http://{HOST}:{self.port}"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )

    def start(self: _S) -> _S:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self.httpd.shutdown()
            self._thread.join(timeout=5)
        self.httpd.server_close()
