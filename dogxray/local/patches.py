"""The only class members of moto the emulator replaces: where moto offers no public
seam (its WSGI API is answered in `local/front.py` instead). Installed when the first
emulator of the process starts, removed when the last one stops; `moto_surface` checks
every target before.

- CloudWatch's statistic of a set of datapoints: percentiles as CloudWatch computes
  them (`cloudwatch_stats.with_percentiles`); moto has none, and the metric API speaks
  CBOR, so the answer cannot be adjusted on the wire.
- moto's list of every model object it made (`retention.untracked_new`) and an S3
  object's finaliser (`retention.quiet_del`): what retention prunes is freed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_lock = threading.Lock()
_users: list[object] = []
_saved: list[tuple[type, str, Any]] = []


def _targets() -> list[tuple[type, str, Any]]:
    from moto.cloudwatch.models import Statistics
    from moto.core.common_models import BaseModel
    from moto.s3.models import FakeKey

    from dogxray.local import cloudwatch_stats, retention

    return [
        (Statistics, "get_statistics_for_type", cloudwatch_stats.with_percentiles),
        (BaseModel, "__new__", staticmethod(retention.untracked_new)),
        (FakeKey, "__del__", retention.quiet_del),
    ]


def install() -> object:
    """Install the patches (once per process); returns a token for `uninstall`."""
    token = object()
    with _lock:
        if not _users:
            for owner, name, value in _targets():
                _saved.append((owner, name, owner.__dict__[name]))
                setattr(owner, name, value)
        _users.append(token)
    return token


def uninstall(token: object) -> None:
    """moto's own members again once no emulator of the process needs them."""
    with _lock:
        if token not in _users:
            return
        _users.remove(token)
        if _users:
            return
        while _saved:
            owner, name, value = _saved.pop()
            setattr(owner, name, value)


def installed() -> bool:
    with _lock:
        return bool(_users)


@contextmanager
def applied() -> Iterator[None]:
    """The patches for the length of a `with` block (in-process tests)."""
    token = install()
    try:
        yield
    finally:
        uninstall(token)
