"""The emulator's marker: `GET /_dogxray/emulator` on its AWS endpoint answers who it is.

Clients use it to choose the zip for the local interpreter only when the endpoint really
is dogxray's emulator; every other path goes to moto unchanged.
"""

from __future__ import annotations

from dogxray import __version__
from dogxray.core.config import EMULATOR_MARKER
from dogxray.local.wsgi import Reply, Request, State


def answer(state: State, req: Request) -> Reply:
    """Who this endpoint is: dogxray's emulator, and its version."""
    return Reply.json({**EMULATOR_MARKER, "version": __version__})
