"""What `dogxray analyze` calls: the window's traces -> profiles -> the comparison."""

from __future__ import annotations

from typing import Any

from dogxray.aws import Aws
from dogxray.config import Settings
from dogxray.errors import DogxrayError
from dogxray.traces.collect import Collected
from dogxray.traces.compare import compare, profile
from dogxray.traces.fetch import Progress, Warn
from dogxray.traces.window import iso, parse_since


def analyze(
    aws: Aws,
    settings: Settings,
    *,
    since: str = "10m",
    threshold_ms: float | None = None,
    progress: Progress | None = None,
    warn: Warn | None = None,
) -> dict[str, Any]:
    """Slow vs normal and faulty vs ok over the window (see `dogxray.traces.compare`)."""
    window = parse_since(since)
    if threshold_ms is not None and threshold_ms <= 0:
        raise DogxrayError.usage(
            f"--threshold must be above 0 ms, not {threshold_ms:g}", hint="e.g. --threshold 1s"
        )
    collected = Collected(aws, settings, window, progress, warn=warn)
    doc = compare([profile(trace) for trace in collected], threshold_ms)
    doc["window"] = {"start": iso(window[0]), "end": iso(window[1])}
    if not doc["traces"]:
        from dogxray.traces.service import why_empty

        doc["note"] = why_empty(aws, settings, since, False)
    elif collected.skipped:
        doc["note"] = f"{collected.skipped} trace(s) could not be fetched yet; re-run"
    return doc
