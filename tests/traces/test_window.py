"""`--since` windows, chunking to the API's 24 h limit, trace id validation."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from dogxray.core.errors import DogxrayError
from dogxray.core.window import chunks, iso, parse_since, validate_trace_id

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("10m", NOW - timedelta(minutes=10)),
        ("2h", NOW - timedelta(hours=2)),
        ("1d", NOW - timedelta(days=1)),
        ("45s", NOW - timedelta(seconds=45)),
        ("2026-03-01T09:30:00Z", datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc)),
        ("2026-03-01T10:30", datetime(2026, 3, 1, 10, 30, tzinfo=timezone.utc)),
        ("2026-03-01T11:00:00+02:00", datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)),
        ("2026-02-28", datetime(2026, 2, 28, tzinfo=timezone.utc)),
    ],
)
def test_parse_since(text: str, start: datetime) -> None:
    assert parse_since(text, NOW) == (start, NOW)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("ten minutes", "invalid --since"),
        ("0m", "empty window"),
        ("10x", "invalid --since"),
        ("2026-03-02T00:00Z", "in the future"),
        ("31d", "30 days"),
        ("2026-01-01", "further back"),
    ],
)
def test_parse_since_rejects(text: str, fragment: str) -> None:
    with pytest.raises(DogxrayError) as info:
        parse_since(text, NOW)
    assert info.value.exit_code == 2
    assert fragment in str(info.value)


def test_chunks_split_long_windows_newest_first() -> None:
    start = NOW - timedelta(hours=50)
    assert list(chunks(start, NOW)) == [
        (NOW - timedelta(hours=24), NOW),
        (NOW - timedelta(hours=48), NOW - timedelta(hours=24)),
        (start, NOW - timedelta(hours=48)),
    ]
    assert list(chunks(NOW - timedelta(minutes=10), NOW)) == [(NOW - timedelta(minutes=10), NOW)]


def test_trace_id_validation() -> None:
    assert validate_trace_id(" 1-5F84C7A1-8B0E2C3F4D5A6B7C8D9E0F1A ") == (
        "1-5f84c7a1-8b0e2c3f4d5a6b7c8d9e0f1a"
    )
    for bad in ("", "abc", "1-5f84c7a1-8b0e2c3f", "2-5f84c7a1-8b0e2c3f4d5a6b7c8d9e0f1a"):
        with pytest.raises(DogxrayError) as info:
            validate_trace_id(bad)
        assert info.value.exit_code == 2 and "dogxray traces" in (info.value.hint or "")


def test_iso() -> None:
    assert iso(0.25) == "1970-01-01T00:00:00.250Z"
    assert iso(None) is None
