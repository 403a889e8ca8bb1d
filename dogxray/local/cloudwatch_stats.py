"""CloudWatch percentiles for moto: `p50`, `p99`, `p99.9` ... as CloudWatch computes them
from the raw datapoints (nearest rank). moto answers them with no value (and its server
then fails to serialise the reply); the emulator installs `with_percentiles` while it
runs (`local/patches.py`), so `dogxray metrics` shows Duration p50/p99 there as on AWS.
Imported only by `patches`, before it patches: `_MOTO` is moto's own member."""

from __future__ import annotations

import re
from typing import Any

from moto.cloudwatch.models import Statistics

from dogxray.core.stats import percentile

_PCT_RE = re.compile(r"^p(\d{1,2}(?:\.\d+)?|100)$")
_MOTO = Statistics.__dict__["get_statistics_for_type"]


def with_percentiles(self: Any, stat: str) -> Any:
    """moto's `Statistics.get_statistics_for_type`, with percentiles."""
    match = _PCT_RE.match(stat)
    if match is None:
        return _MOTO(self, stat)
    return percentile(sorted(float(v) for v in self.metric_single_values_list), float(match[1]))
