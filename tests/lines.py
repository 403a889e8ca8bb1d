"""Child processes in tests: reading their output with a deadline (a blocking `readline`
on a child that hangs without printing would hang the test run instead of failing one
test), and Ctrl-C that reaches them however the test run was started."""

from __future__ import annotations

import queue
import signal
import threading
from typing import IO


class LineReader:
    """Lines of a text pipe, read by a daemon thread into a queue; `readline(timeout)`
    fails the test when no line comes in time, and returns "" at end of output."""

    def __init__(self, stream: IO[str]) -> None:
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line)
        self._lines.put("")  # end of output

    def readline(self, timeout: float) -> str:
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no output line within {timeout} s") from None


def ctrl_c_reaches_the_child() -> None:
    """`preexec_fn` for a child the test stops with SIGINT: a shell starts background
    jobs (`pytest &`, CI runners without job control) with SIGINT ignored, and a child
    inherits that, so Ctrl-C would never reach it. A user's terminal delivers it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
