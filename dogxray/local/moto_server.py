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

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

HOST = "127.0.0.1"
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def moto_app() -> WsgiApp:
    """moto's own WSGI application (every service, dispatched by host and path)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    app: WsgiApp = DomainDispatcherApplication(create_backend_app)
    return app


class WsgiServer:
    """`app` served by werkzeug's threaded server on 127.0.0.1 (port 0: any free one)."""

    def __init__(self, app: WsgiApp, port: int = 0) -> None:
        from moto.moto_server import werkzeug_app
        from werkzeug.serving import WSGIRequestHandler, make_server

        # moto's handler (5.2.5 on) keeps S3 metadata keys with underscores; werkzeug's
        # own before that (the lab writes no such keys)
        base = getattr(werkzeug_app, "MotoRequestHandler", WSGIRequestHandler)

        class Handler(base):  # type: ignore[valid-type,misc]
            disable_nagle_algorithm = True  # headers and body are separate writes
            protocol_version = "HTTP/1.1"  # keep-alive: a client's calls share a connection

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
