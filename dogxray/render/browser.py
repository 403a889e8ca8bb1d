"""`--open` (`test`, `report`): the web browser, or one line saying what to open."""

from __future__ import annotations

import webbrowser

from dogxray import render


def open_or_say(url: str, *, shown: str | None = None) -> bool:
    """Open `url` in the web browser; when none can be opened (a headless machine, an
    SSH session) say on stderr, in one line, what to open instead (`shown`, else the
    URL). Whether a browser took it."""
    try:
        opened = webbrowser.open(url)
    except webbrowser.Error:
        opened = False
    if not opened:
        render.progress(f"no web browser could be opened; open {shown or url}")
    return opened
