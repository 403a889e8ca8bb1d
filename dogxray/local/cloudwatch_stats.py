"""CloudWatch percentiles for moto: `p50`, `p99`, `p99.9` ... as CloudWatch computes them
from the raw datapoints (nearest rank). moto answers them with no value (and its server
then fails to serialise the reply); the emulator applies this while it runs, so
`dogxray metrics` shows Duration p50/p99 there as on AWS."""

from __future__ import annotations

import re
from typing import Any

from dogxray.core.stats import percentile

_PCT_RE = re.compile(r"^p(\d{1,2}(?:\.\d+)?|100)$")
_original: Any = None


def _with_percentiles(self: Any, stat: str) -> Any:
    match = _PCT_RE.match(stat)
    if match is None:
        return _original(self, stat)
    return percentile(sorted(float(v) for v in self.metric_single_values_list), float(match[1]))


def apply() -> None:
    """Teach moto's CloudWatch percentiles (idempotent)."""
    global _original
    from moto.cloudwatch.models import Statistics

    if _original is None:
        _original = Statistics.get_statistics_for_type
        Statistics.get_statistics_for_type = _with_percentiles  # type: ignore[method-assign]


def detach() -> None:
    global _original
    if _original is not None:
        from moto.cloudwatch.models import Statistics

        Statistics.get_statistics_for_type = _original  # type: ignore[method-assign]
        _original = None
