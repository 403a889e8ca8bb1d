"""The pieces the emulator's front (`local/front.py`) and its handlers share: one request
in front of moto, one answer, and what the running emulator tells the handlers.

A handler gets the `Request`; it can answer by itself, or `forward()` the request to
moto and change moto's answer (a JSON body it rewrites, a side effect after a success).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, unquote

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_CREDENTIAL_RE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/,\s]+)/([^/,\s]+)/")


def _json(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


@dataclass
class State:
    """What the handlers need of the running emulator."""

    concurrency: int  # the account's concurrency limit (the pool's)
    gateway_base: str  # Function URLs point here
    runtime: Any = None  # dogxray.local.runtime.Runtime once started (None: moto's Invoke)
    graph: bool = True  # answer GetServiceGraph/GetTraceGraph (False: moto's empty graph)
    search: Any = None  # the account's trace settings (local/transaction_search.Account)
    alarms: Any = None  # the CloudWatch alarm evaluator (local/alarms.Evaluator)


@dataclass
class Reply:
    """An HTTP answer: status, headers (without Content-Length) and body."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @classmethod
    def json(
        cls,
        doc: Any,
        status: int = 200,
        headers: Iterable[tuple[str, str]] = (),
        *,
        encode: Callable[[Any], bytes] | None = None,
    ) -> Reply:
        body = json.dumps(doc).encode() if encode is None else encode(doc)
        return cls(status, [("Content-Type", "application/json"), *headers], body)

    @classmethod
    def error(cls, status: int, kind: str, message: str, **extra: str) -> Reply:
        """An AWS JSON error: `__type`, `message` (and `extra` fields), X-Amzn-ErrorType."""
        doc = {"__type": kind, "message": message, **extra}
        return cls.json(doc, status, [("X-Amzn-ErrorType", kind)])

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def document(self) -> Any:
        """The body as JSON (None if it is not JSON)."""
        return _json(self.body)

    def with_document(self, doc: Any) -> Reply:
        """This answer with `doc` as its JSON body."""
        return Reply(self.status, self.headers, json.dumps(doc).encode())

    def send(self, start_response: Callable[..., Any]) -> list[bytes]:
        headers = [(k, v) for k, v in self.headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(self.body))))
        try:
            phrase = HTTPStatus(self.status).phrase
        except ValueError:  # a status the standard library does not name
            phrase = ""
        start_response(f"{self.status} {phrase}".rstrip(), headers)
        return [self.body]


class Request:
    """One request to the emulator's AWS endpoint, before moto sees it."""

    def __init__(self, environ: dict[str, Any], app: WsgiApp, params: dict[str, str]) -> None:
        self.environ = environ
        self.params = {k: unquote(v) for k, v in params.items()}  # from the path
        self._app = app
        self._body: bytes | None = None

    @property
    def method(self) -> str:
        return str(self.environ.get("REQUEST_METHOD", ""))

    @property
    def body(self) -> bytes:
        """The request body, read once (moto still gets it when forwarded)."""
        if self._body is None:
            length = int(self.environ.get("CONTENT_LENGTH") or 0)
            self._body = self.environ["wsgi.input"].read(length) if length > 0 else b""
            self.environ["wsgi.input"] = io.BytesIO(self._body)
        return self._body

    def document(self) -> Any:
        """The body as JSON; None when empty or not JSON."""
        return _json(self.body)

    def header(self, name: str) -> str:
        return str(self.environ.get("HTTP_" + name.upper().replace("-", "_"), ""))

    def query(self, name: str) -> str | None:
        values = parse_qs(str(self.environ.get("QUERY_STRING", ""))).get(name)
        return values[0] if values else None

    @property
    def service(self) -> str:
        """The service a SigV4-signed request is signed for ('' if unsigned)."""
        match = _CREDENTIAL_RE.search(self.header("Authorization"))
        return match[3] if match else ""

    def scope(self) -> tuple[str, str] | None:
        """(account, region) of a SigV4-signed request, found as moto finds them."""
        match = _CREDENTIAL_RE.search(self.header("Authorization"))
        if match is None:
            return None
        from moto.iam.models import get_account_id_from

        return get_account_id_from(match[1]), match[2]

    def forward(self) -> Reply:
        """moto's answer to this request."""
        self.body  # noqa: B018 -- read it now, so it can still be read afterwards
        seen: dict[str, Any] = {}
        chunks: list[bytes] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            seen["status"], seen["headers"] = int(status.split(" ", 1)[0]), list(headers)
            return chunks.append

        result = self._app(self.environ, start_response)
        try:
            chunks.extend(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return Reply(seen["status"], seen["headers"], b"".join(chunks))
