"""The console script `dogxray` and `python -m dogxray`.

A command's first seconds run without Python's cyclic garbage collector. Start-up
(typer, botocore and its client, the command's modules) and a listing's rows allocate
a few hundred thousand objects and free almost none of them in cycles, yet the
collector walks them again and again: ~60 ms of the 0.5 s `dogxray traces --limit 1000`
takes (bench/summaries.py). After `GRACE_S` it runs again, with what exists by then
frozen out of its work (long-lived: modules, classes, clients), so a long command (the
emulator, `load`, `demo`) collects as usual.
"""

from __future__ import annotations

import gc
import threading

GRACE_S = 2.0


def _resume() -> None:
    gc.freeze()
    gc.enable()


def main() -> None:
    enabled = gc.isenabled()
    gc.disable()
    timer = threading.Timer(GRACE_S, _resume)
    timer.daemon = True
    timer.start()
    try:
        from dogxray.app import main as run

        run()
    finally:
        timer.cancel()
        if enabled:
            gc.enable()


if __name__ == "__main__":
    main()
