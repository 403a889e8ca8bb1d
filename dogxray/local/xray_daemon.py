"""The X-Ray daemon on loopback UDP: the SDK's datagrams go straight into moto's X-Ray.

The SDK sends `{"format": "json", "version": 1}\\n<segment document>` per datagram; ADOT's
OpenTelemetry exporter sends OTLP spans after the same header (`local/otlp.py`).
`flush()` sends a marker through the same socket and waits until it is processed, so
everything the function sent before returning is stored before the gateway answers
(traces are queryable right after the HTTP response).
"""

from __future__ import annotations

import json
import socket
import threading
from collections import OrderedDict
from collections.abc import Callable
from itertools import count

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.xray.models import xray_backends

from dogxray.local import otlp

HOST = "127.0.0.1"
HEADER = b'{"format": "json", "version": 1}'
_FLUSH = b"dogxray-flush "
_MAX_TRACES = 10_000


# Every segment the emulator stores goes through store_segment under this lock (moto's
# store is not thread-safe); the retention sweeper (local/retention.py) holds it too.
SEGMENTS_LOCK = threading.Lock()
# Told of every stored document (a Transaction Search account writes its spans to CloudWatch
# Logs: local/transaction_search.SpanWriter); set by the running emulator.
SINKS: list[Callable[[str, str, str], None]] = []


def store_segment(document: str, account_id: str, region: str) -> bool:
    """Put one segment document into the emulated X-Ray; False if X-Ray rejects it."""
    try:
        backend = xray_backends[account_id][region]
        with SEGMENTS_LOCK:
            backend.process_segment(document)
    except Exception:
        return False
    for sink in list(SINKS):
        sink(document, account_id, region)
    return True


class XRayDaemon:
    """UDP receiver on 127.0.0.1 (random port) forwarding documents to moto's X-Ray."""

    def __init__(self, default_region: str = "us-east-1") -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        self._sock.bind((HOST, 0))
        self.port = int(self._sock.getsockname()[1])
        self.address = f"{HOST}:{self.port}"
        self._default = (DEFAULT_ACCOUNT_ID, default_region)
        self._where: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._lock = threading.Lock()
        self._flushed: dict[int, threading.Event] = {}
        self._ids = count(1)
        self.received = 0
        self.rejected = 0
        self._thread = threading.Thread(target=self._serve, name="xray-daemon", daemon=True)

    def start(self) -> XRayDaemon:
        self._thread.start()
        return self

    def expect(self, trace_id: str, account_id: str, region: str) -> None:
        """Route documents of `trace_id` to that account and region's X-Ray."""
        with self._lock:
            self._where[trace_id] = (account_id, region)
            while len(self._where) > _MAX_TRACES:
                self._where.popitem(last=False)

    def flush(self, timeout: float = 2.0) -> bool:
        """Wait until every datagram already received by the socket has been stored."""
        if not self._thread.is_alive():
            return False
        marker = next(self._ids)
        event = threading.Event()
        with self._lock:
            self._flushed[marker] = event
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.sendto(_FLUSH + str(marker).encode(), (HOST, self.port))
        return event.wait(timeout)

    def stop(self) -> None:
        if self._thread.is_alive():
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
                sender.sendto(_FLUSH + b"0", (HOST, self.port))
            self._thread.join(timeout=5)
        self._sock.close()

    def _serve(self) -> None:
        while True:
            data = self._sock.recv(65535)
            if data.startswith(_FLUSH):
                marker = int(data[len(_FLUSH) :] or 0)
                if marker == 0:
                    return
                with self._lock:
                    event = self._flushed.pop(marker, None)
                if event is not None:
                    event.set()
                continue
            self._receive(data)

    def _receive(self, data: bytes) -> None:
        _, _, body = data.partition(b"\n")
        if otlp.is_otlp(body):  # OpenTelemetry spans, as ADOT sends them in Lambda
            try:
                found = otlp.documents(body)
            except otlp.NotSpans:
                self.rejected += 1
                return
            for doc in found:
                self._store(otlp.dumps(doc), doc)
            return
        try:
            document = body.decode()
            parsed = json.loads(document)
        except (UnicodeDecodeError, ValueError):
            self.rejected += 1
            return
        self._store(document, parsed)

    def _store(self, document: str, parsed: object) -> None:
        if not isinstance(parsed, dict):
            self.rejected += 1
            return
        trace_id = str(parsed.get("trace_id", ""))
        with self._lock:
            account_id, region = self._where.get(trace_id, self._default)
        self.received += 1
        if not store_segment(document, account_id, region):
            self.rejected += 1
