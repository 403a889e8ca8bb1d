"""What the emulator keeps: the newest X-Ray traces, CloudWatch Logs events and metric
datapoints up to the counts in `dogxray.core.config` (LOCAL_KEEP_*, overridable by their
environment variables), so its memory stays flat under a long `load`.

moto also keeps a reference to every model object it ever made (`instances_tracked`, for
its /moto-api dashboard): every segment, log event, datapoint and replaced S3 object
would live forever. `untracked_new` (installed by `local/patches.py` while the emulator
runs) stops that, so what is pruned or replaced is freed.

A sweeper thread prunes every `SWEEP_INTERVAL_S`; between sweeps the stores may exceed
the bounds by what arrived meanwhile. Pruning swaps in new containers (a reader iterating
the old one is not disturbed) under the locks the emulator's writers hold.
"""

from __future__ import annotations

import heapq
import os
import threading
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dogxray.core.config import (
    ENV_LOCAL_KEEP_DATAPOINTS,
    ENV_LOCAL_KEEP_LOG_EVENTS,
    ENV_LOCAL_KEEP_TRACES,
    LOCAL_KEEP_DATAPOINTS,
    LOCAL_KEEP_LOG_EVENTS,
    LOCAL_KEEP_MAX,
    LOCAL_KEEP_TRACES,
)
from dogxray.core.errors import DogxrayError

SWEEP_INTERVAL_S = 2.0


@dataclass(frozen=True)
class Bounds:
    traces: int = LOCAL_KEEP_TRACES  # per account and region
    log_events: int = LOCAL_KEEP_LOG_EVENTS  # per log group
    datapoints: int = LOCAL_KEEP_DATAPOINTS  # per metric


def parse_bounds(environ: Mapping[str, str] | None = None) -> Bounds:
    """The bounds from the environment (defaults where unset); exit 2 on bad values."""
    env = os.environ if environ is None else environ
    values = []
    for name, default in (
        (ENV_LOCAL_KEEP_TRACES, LOCAL_KEEP_TRACES),
        (ENV_LOCAL_KEEP_LOG_EVENTS, LOCAL_KEEP_LOG_EVENTS),
        (ENV_LOCAL_KEEP_DATAPOINTS, LOCAL_KEEP_DATAPOINTS),
    ):
        raw = env.get(name) or ""
        try:
            value = int(raw) if raw else default
        except ValueError:
            value = 0
        if not 1 <= value <= LOCAL_KEEP_MAX:
            raise DogxrayError.usage(
                f"{name} {raw} is not a count",
                hint=f"give a whole number from 1 to {LOCAL_KEEP_MAX:,} (default {default:,})",
            )
        values.append(value)
    return Bounds(*values)


# ---- one back end each ----------------------------------------------------------------


def prune_traces(backend: Any, keep: int) -> list[str]:
    """Drop the oldest traces (by arrival of their first document) of one moto X-Ray
    back end beyond `keep`; returns the dropped trace ids."""
    from dogxray.local import trace_summaries, xray_service
    from dogxray.local.xray_daemon import SEGMENTS_LOCK

    collection = backend._segment_collection
    with SEGMENTS_LOCK:
        traces = collection._traces
        excess = len(traces) - keep
        if excess <= 0:
            return []
        ids = list(traces)
        kept: defaultdict[str, Any] = defaultdict(collection._new_trace_item)
        kept.update((trace_id, traces[trace_id]) for trace_id in ids[excess:])
        collection._traces = kept
    dropped = ids[:excess]
    xray_service.forget(backend, dropped)
    trace_summaries.forget(backend, dropped)
    return dropped


def prune_log_group(group: Any, keep: int) -> int:
    """Drop the oldest events of one moto log group beyond `keep` (a stream left empty
    goes too); returns how many were dropped. The caller holds the logs lock."""
    streams = list(group.streams.values())
    total = sum(len(stream.events) for stream in streams)
    excess = total - keep
    if excess <= 0:
        return 0
    keys = (_event_key(event) for stream in streams for event in stream.events)
    threshold = max(heapq.nsmallest(excess, keys))
    emptied = set()
    for stream in streams:
        kept, gone_bytes = [], 0
        for event in stream.events:
            if _event_key(event) > threshold:
                kept.append(event)
            else:
                gone_bytes += len(event.message)
        if len(kept) < len(stream.events):
            stream.stored_bytes = max(0, stream.stored_bytes - gone_bytes)
            stream.events = kept
            if not kept:
                emptied.add(stream.log_stream_name)
    if emptied:
        group.streams = {n: s for n, s in group.streams.items() if n not in emptied}
    return excess


def _event_key(event: Any) -> tuple[int, int]:
    return (int(event.timestamp), int(event.event_id))


def prune_logs(backend: Any, keep: int) -> int:
    """`prune_log_group` for every group of one moto Logs back end."""
    from dogxray.local.records import LOGS_LOCK

    with LOGS_LOCK:
        return sum(prune_log_group(group, keep) for group in list(backend.groups.values()))


def prune_metrics(backend: Any, keep: int) -> int:
    """Keep the newest `keep` datapoints of every metric (namespace, name, dimensions) of
    one moto CloudWatch back end; returns how many were dropped."""
    from dogxray.local.records import METRICS_LOCK

    with METRICS_LOCK:
        data = backend.metric_data
        if len(data) <= keep:
            return 0
        seen: dict[tuple[Any, ...], int] = defaultdict(int)
        kept = []
        for datum in reversed(data):  # newest first: puts append
            key = _metric_key(datum)
            seen[key] += 1
            if seen[key] <= keep:
                kept.append(datum)
        if len(kept) == len(data):
            return 0
        kept.reverse()
        backend.metric_data = kept
    return len(data) - len(kept)


def _metric_key(datum: Any) -> tuple[Any, ...]:
    dimensions = tuple(sorted((d.name, d.value) for d in datum.dimensions))
    return (datum.namespace, datum.name, dimensions)


# ---- moto's own list of every model object (installed by local/patches.py) ----------


def untracked_new(cls: type, *args: Any, **kwargs: Any) -> Any:
    """`BaseModel.__new__` without adding the object to moto's `instances_tracked`."""
    from moto.core.common_models import BaseModel

    return super(BaseModel, cls).__new__(cls)  # type: ignore[misc]


def quiet_del(self: Any) -> None:
    """A replaced S3 object's buffer closed when it is freed, without moto's "not
    disposed" warning."""
    self.dispose()


# ---- every back end, periodically -------------------------------------------------------


def _backends(backend_dict: Any) -> list[Any]:
    """The back ends moto has created (reading through BackendDict would create more)."""
    return [b for account in list(dict.values(backend_dict)) for b in list(dict.values(account))]


def sweep(bounds: Bounds) -> dict[str, int]:
    """Prune every account and region once; returns how many of each were dropped."""
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.logs.models import logs_backends
    from moto.xray.models import xray_backends

    return {
        "traces": sum(len(prune_traces(b, bounds.traces)) for b in _backends(xray_backends)),
        "log_events": sum(prune_logs(b, bounds.log_events) for b in _backends(logs_backends)),
        "datapoints": sum(
            prune_metrics(b, bounds.datapoints) for b in _backends(cloudwatch_backends)
        ),
    }


class Retention:
    """The sweeper: `start()` runs `sweep(bounds)` every `interval_s` until `stop()`."""

    def __init__(self, bounds: Bounds, interval_s: float = SWEEP_INTERVAL_S) -> None:
        self.bounds = bounds
        self.interval_s = interval_s
        self.dropped = {"traces": 0, "log_events": 0, "datapoints": 0}
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dogxray-retention", daemon=True)

    def start(self) -> Retention:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stopped.wait(self.interval_s):
            try:
                for kind, count in sweep(self.bounds).items():
                    self.dropped[kind] += count
            except Exception:  # a moto structure changed under us: try again next time
                continue

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
