"""How the control plane reports progress without knowing the terminal.

The command layer (and the demo) pass `dogxray.render.lab.REPORTER`; service code
defaults to `SILENT`, so nothing in `dogxray.lab` imports `dogxray.render`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol


class Reporter(Protocol):
    def progress(self, text: str) -> None:
        """One line per step ("- create bucket ...")."""

    def spinner(self, text: str) -> AbstractContextManager[Callable[[str], None]]:
        """A long wait; the context yields `update(text)` to refresh it."""


class Silent:
    """The service layer's default: reports nothing."""

    def progress(self, text: str) -> None:
        pass

    @contextmanager
    def spinner(self, text: str) -> Iterator[Callable[[str], None]]:
        yield lambda _text: None


SILENT: Reporter = Silent()
