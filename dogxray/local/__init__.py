"""The embedded emulator (`demo --local`, `dogxray local`). Importing this package does
not import moto; `Emulator.start()` does."""

from __future__ import annotations

from dogxray.local.emulator import CLIENT_ENV, Emulator

__all__ = ["CLIENT_ENV", "Emulator"]
