"""The project's one percentile: nearest rank, as CloudWatch and X-Ray's figures are read
(`load`, `analyze`, the trace statistics, and the emulator's CloudWatch percentiles)."""

from __future__ import annotations

import math


def percentile(sorted_values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile of an ascending list; None when empty."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(pct / 100.0 * len(sorted_values)))
    return sorted_values[rank - 1]
