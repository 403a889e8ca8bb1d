"""Commands: local."""

from __future__ import annotations

# --- `dogxray local`: the embedded emulator in the foreground -------------------------
import signal
import threading

import typer

from dogxray import render
from dogxray.cli import command


@command("local")
def local(
    port: int = typer.Option(
        4566, "--port", min=0, max=65535, help="AWS endpoint port on 127.0.0.1 (0 = any free)"
    ),
) -> None:
    """Run the offline emulator until Ctrl-C; point other commands at it with the printed
    `export` lines (AWS endpoint, dummy credentials)."""
    from dogxray.local import Emulator

    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        emu = Emulator(port=port).start()
        try:
            for name, value in emu.client_env.items():
                render.data(f"export {name}={value}")
            render.progress(
                f"dogxray emulator on 127.0.0.1: AWS endpoint {emu.endpoint_url}, "
                f"Function URLs under {emu.gateway_url}/, Dog API {emu.dog_api_url}"
            )
            render.progress("run the export lines above in another shell; Ctrl-C stops")
            try:
                while not stop.wait(0.5):
                    pass
            except KeyboardInterrupt:
                pass
        finally:
            emu.stop()
    finally:
        signal.signal(signal.SIGTERM, previous)
    render.progress("emulator stopped; its temporary files are removed")
