"""The emulator's marker: `GET /_dogxray/emulator` on its AWS endpoint answers who it is.

Clients use it to choose the zip for the local interpreter only when the endpoint really
is dogxray's emulator; every other path goes to moto unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from dogxray import __version__
from dogxray.core.config import EMULATOR_MARKER, EMULATOR_MARKER_PATH

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def wrap(app: WsgiApp) -> WsgiApp:
    """`app` with the marker path answered in front of it."""
    body = json.dumps({**EMULATOR_MARKER, "version": __version__}).encode()

    def with_marker(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") == EMULATOR_MARKER_PATH:
            start_response(
                "200 OK",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        return app(environ, start_response)

    return with_marker
