"""Reading a child process's output with a deadline: a blocking `readline` on a child
that hangs without printing would hang the test run instead of failing one test."""

from __future__ import annotations

import queue
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
