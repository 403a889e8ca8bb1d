"""`traces --limit N` is the N newest, whatever order the parallel fetches finish in and
even when summaries carry no StartTime (moto: only the id's whole second is known)."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import Any

import pytest

from dogxray.core.aws import Aws
from dogxray.traces import fetch, service
from tests.traces.tracedocs import load, rebase


def put_close_together(aws: Aws, names: list[str], spacing: float = 0.3) -> list[str]:
    """Traces `spacing` s apart (several per second), put in a shuffled order; ids oldest
    first."""
    base = time.time() - 120
    made = [
        rebase(load(name), start=base + i * spacing, serial=i + 1) for i, name in enumerate(names)
    ]
    order = list(range(len(made)))
    random.Random(7).shuffle(order)
    client = aws.client("xray")
    for i in order:
        assert (
            client.put_trace_segments(TraceSegmentDocuments=made[i][1])["UnprocessedTraceSegments"]
            == []
        )
    return [trace_id for trace_id, _ in made]


@pytest.fixture
def out_of_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fetched documents arrive in a scrambled order (as parallel batches finishing in
    any order would deliver them)."""
    original = fetch.Fetcher.documents

    def scrambled(self: fetch.Fetcher, ids: list[str], **kw: Any) -> Iterator[Any]:
        results = list(original(self, ids, **kw))
        random.Random(len(ids)).shuffle(results)
        results.reverse()
        yield from results

    monkeypatch.setattr(fetch.Fetcher, "documents", scrambled)


@pytest.mark.parametrize("limit", [1, 5, 20])
def test_limit_gives_the_newest(aws_mock: Aws, out_of_order: None, limit: int) -> None:
    ids = put_close_together(aws_mock, ["success_embedded", "fault_separate"] * 15)
    result = service.list_traces(aws_mock, aws_mock.settings, since="10m", limit=limit).to_json()
    assert [t["id"] for t in result["traces"]] == ids[::-1][:limit]


@pytest.mark.slow
@pytest.mark.parametrize("limit", [1, 5])
def test_errors_limit_gives_the_newest_failures(
    aws_mock: Aws, out_of_order: None, limit: int
) -> None:
    names = ["success_embedded", "fault_separate", "success_embedded"] * 8
    ids = put_close_together(aws_mock, names)
    failed = [tid for tid, name in zip(ids, names, strict=True) if name == "fault_separate"]
    result = service.list_traces(
        aws_mock, aws_mock.settings, since="10m", limit=limit, errors_only=True
    ).to_json()
    assert [t["id"] for t in result["traces"]] == failed[::-1][:limit]
