"""A plain moto server on loopback: the "any other endpoint" of the tests and benches.

Not the emulator (no Function URL gateway, no runtime, no marker). Callers set dummy
credentials themselves; moto is imported only when this is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

HOST = "127.0.0.1"


@contextmanager
def loopback_moto_server(port: int = 0) -> Iterator[str]:
    """Run a moto server on 127.0.0.1 (port 0: any free one); yields its URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
    server.start()
    host, bound = server.get_host_and_port()
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.stop()
