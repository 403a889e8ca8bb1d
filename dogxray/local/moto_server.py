"""moto's WSGI application served on loopback by a server of our own.

moto documents its server as `DomainDispatcherApplication(create_backend_app)` behind
werkzeug (what `moto_server` and `ThreadedMotoServer` run). Serving that application
ourselves lets the emulator put its front (`local/front.py`) in front of it as plain
WSGI, and keep a client's connection open between calls (HTTP/1.1; werkzeug's default
is HTTP/1.0, one connection per call) without the ~40 ms Nagle/delayed-ACK stall, without
touching moto's server objects. `loopback_moto_server()` is plain moto: the "any other
endpoint" of the tests and benches (callers set dummy credentials themselves).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

HOST = "127.0.0.1"
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def moto_app() -> WsgiApp:
    """moto's own WSGI application (every service, dispatched by host and path), with
    each host's backend looked up once: moto's dispatcher lists its own package
    directory (a listdir and ~200 isdir calls) for every request, under the lock all
    requests share, which made that lookup most of a BatchGetTraces' time in moto."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    class Dispatcher(DomainDispatcherApplication):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.known: dict[str | None, Any] = {}

        def get_backend_for_host(self, host: str | None) -> Any:
            # called under moto's dispatcher lock; a host's backend never changes
            if host not in self.known:
                self.known[host] = super().get_backend_for_host(host)
            return self.known[host]

    app: WsgiApp = Dispatcher(create_backend_app)
    return app


class _Answered:
    """A connection's read side once its request is read: reads nothing (werkzeug's
    discard of leftovers) until the next request begins."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def read(self, size: int = -1) -> bytes:
        return b""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


class WsgiServer:
    """`app` served by werkzeug's threaded server on 127.0.0.1 (port 0: any free one)."""

    def __init__(self, app: WsgiApp, port: int = 0) -> None:
        from moto.moto_server import werkzeug_app
        from werkzeug.serving import WSGIRequestHandler, make_server

        # moto's handler (5.2.5 on) keeps S3 metadata keys with underscores; werkzeug's
        # own before that (the lab writes no such keys)
        base = getattr(werkzeug_app, "MotoRequestHandler", WSGIRequestHandler)

        class Handler(base):  # type: ignore[valid-type,misc]
            """Keep-alive (HTTP/1.1): werkzeug answers every request with `Connection:
            close` and then discards whatever else the socket holds, because it cannot
            tell a request body the application left unread from the next request. Here
            a request with a Content-Length has its body read before the application
            runs, so anything after it is the client's next request: the connection
            stays open and werkzeug's discard reads nothing. A chunked body keeps
            werkzeug's close."""

            disable_nagle_algorithm = True  # headers and body are separate writes
            protocol_version = "HTTP/1.1"
            keep = False

            def handle_one_request(self) -> None:
                reads: Any = getattr(self, "rfile")  # noqa: B009 -- typed by werkzeug only at run time
                if isinstance(reads, _Answered):
                    self.rfile = reads.raw  # the next request line
                self.keep = False
                super().handle_one_request()

            def make_environ(self) -> dict[str, Any]:
                environ: dict[str, Any] = super().make_environ()
                if environ.get("wsgi.input_terminated"):  # chunked: werkzeug's way
                    return environ
                length = int(environ.get("CONTENT_LENGTH") or 0)
                reads: Any = self.rfile
                environ["wsgi.input"] = io.BytesIO(reads.read(length) if length else b"")
                self.rfile, self.keep = _Answered(reads), True
                return environ

            def send_header(self, keyword: str, value: str) -> None:
                if self.keep and keyword.lower() == "connection" and value == "close":
                    return
                super().send_header(keyword, value)

        self._server = make_server(HOST, port, app, threaded=True, request_handler=Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="dogxray-moto", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._server.server_port}"

    def start(self) -> WsgiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()


@contextmanager
def loopback_moto_server(port: int = 0, app: WsgiApp | None = None) -> Iterator[str]:
    """Serve `app` (default: plain moto) on 127.0.0.1; yields its URL."""
    server = WsgiServer(app or moto_app(), port).start()
    try:
        yield server.url
    finally:
        server.stop()
