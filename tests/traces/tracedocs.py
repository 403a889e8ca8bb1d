"""X-Ray trace documents (tests/traces/data/*.json) and helpers to replay them.
(A module name unique across tests/, since the topic directories are not packages.)

The files are hand-written, not captured from an AWS account: each follows the shapes
of BatchGetTraces answers published in AWS's X-Ray developer guide and the segment
documents the X-Ray SDK and the Lambda service send (embedded subsegments as real
X-Ray returns them; separate documents linked by `parent_id` as moto and the emulator
return them). Tests call them "recorded" only in the sense of fixed inputs.

Each file holds one trace as BatchGetTraces returns it, documents as objects:
`{"note", "trace_id", "documents": [...]}`. `rebase` moves a recording to a new trace id
and start time (moto only lists traces inside the queried window); the bench uses it
to put 1,000 realistic traces.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

FUNCTION = "dog-photo-function"
DATA = Path(__file__).parent / "data"
NAMES = (
    "success_embedded",
    "fault_separate",
    "fault_embedded_accessdenied",
    "in_progress_separate",
    "other_service",
)


def load(name: str) -> dict[str, Any]:
    return json.loads((DATA / f"{name}.json").read_text())


def separate(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The embedded form turned into moto's form: every subsegment its own document."""
    out: list[dict[str, Any]] = []

    def split(doc: dict[str, Any], parent: str | None, trace_id: str, is_sub: bool) -> None:
        doc = dict(doc)
        subs = doc.pop("subsegments", [])
        if is_sub:
            doc.update(type="subsegment", parent_id=parent, trace_id=trace_id)
        out.append(doc)
        for sub in subs:
            split(sub, doc["id"], trace_id, True)

    for doc in docs:
        split(doc, doc.get("parent_id"), doc["trace_id"], False)
    return out


def trace_id_at(start: float, serial: int) -> str:
    return f"1-{int(start):08x}-{serial:024x}"


def _shift(doc: dict[str, Any], delta: float, trace_id: str) -> dict[str, Any]:
    out = dict(doc)
    for key in ("start_time", "end_time"):
        if out.get(key) is not None:
            out[key] = round(out[key] + delta, 6)
    if "trace_id" in out:
        out["trace_id"] = trace_id
    if "subsegments" in out:
        out["subsegments"] = [_shift(sub, delta, trace_id) for sub in out["subsegments"]]
    return out


def rebase(recording: dict[str, Any], *, start: float, serial: int) -> tuple[str, list[str]]:
    """The recording moved to begin at `start`: (new trace id, documents as JSON strings)."""
    docs = recording["documents"]
    delta = start - min(d["start_time"] for d in docs)
    trace_id = trace_id_at(start, serial)
    return trace_id, [json.dumps(_shift(d, delta, trace_id)) for d in docs]


def with_durations(recording: dict[str, Any], durations: dict[str, float]) -> dict[str, Any]:
    """A copy whose (sub)segments named in `durations` last that many ms (each keeps its
    start): traces that differ in timing, for percentiles that differ."""

    def timed(doc: dict[str, Any]) -> dict[str, Any]:
        out = dict(doc)
        if out.get("name") in durations:
            out["end_time"] = round(out["start_time"] + durations[out["name"]] / 1000, 6)
        if "subsegments" in out:
            out["subsegments"] = [timed(sub) for sub in out["subsegments"]]
        return out

    return {**recording, "documents": [timed(d) for d in recording["documents"]]}


def put(aws: Any, names: list[str] | list[dict[str, Any]], *, ago: float = 60.0) -> list[str]:
    """Put recordings (by name, or as loaded) into X-Ray, one second apart ending `ago`
    seconds back; their ids."""
    client = aws.client("xray")
    ids = []
    base = time.time() - ago - len(names)
    for serial, name in enumerate(names, start=1):
        recording = load(name) if isinstance(name, str) else name
        trace_id, docs = rebase(recording, start=base + serial, serial=serial)
        response = client.put_trace_segments(TraceSegmentDocuments=docs)
        assert response["UnprocessedTraceSegments"] == []
        ids.append(trace_id)
    return ids
