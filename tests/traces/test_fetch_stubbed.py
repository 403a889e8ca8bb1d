"""What moto cannot do, with botocore's Stubber: the server-side filter, pagination,
Transaction Search, throttling, unprocessed ids, a real endpoint rejecting the filter."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

import dogxray.traces.fetch as fetch
from dogxray.core.aws import Aws
from dogxray.core.config import Settings
from dogxray.traces import service
from tests.traces.tracedocs import FUNCTION, load, rebase

FILTER = f'service("{FUNCTION}")'


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Aws, Stubber]]:
    monkeypatch.setattr(fetch, "WORKERS", 1)  # a Stubber answers in call order
    aws = Aws(Settings.from_options(region="us-east-1"))
    with Stubber(aws.client("xray")) as stub:
        yield aws, stub
        stub.assert_no_pending_responses()


def summary(trace_id: str, *, services: list[str] | None = None, fault: bool = False) -> dict:
    doc: dict[str, Any] = {
        "Id": trace_id,
        "HasFault": fault,
        "HasError": False,
        "HasThrottle": False,
        "IsPartial": False,
        "StartTime": datetime.fromtimestamp(int(trace_id[2:10], 16), timezone.utc),
    }
    if services is not None:
        doc["ServiceIds"] = [{"Name": s, "Names": [s], "Type": "AWS::Lambda"} for s in services]
    return doc


def traces_response(ids: list[str], name: str = "success_embedded") -> dict:
    out = []
    for tid in ids:
        _, docs = rebase(load(name), start=int(tid[2:10], 16), serial=int(tid[-6:], 16))
        docs = [d.replace(_tid_of(docs), tid) for d in docs]
        out.append(
            {"Id": tid, "Segments": [{"Id": json.loads(d)["id"], "Document": d} for d in docs]}
        )
    return {"Traces": out, "UnprocessedTraceIds": []}


def _tid_of(docs: list[str]) -> str:
    return json.loads(docs[0])["trace_id"]


def ids(n: int, base: int = 0x6A000000) -> list[str]:
    return [f"1-{base + i:08x}-{i:024x}" for i in range(n)]


def destination(stub: Stubber, value: str = "XRay") -> None:
    stub.add_response("get_trace_segment_destination", {"Destination": value, "Status": "ACTIVE"})


@pytest.mark.slow
def test_server_side_filter_and_pagination_over_three_pages(stubbed: Any) -> None:
    aws, stub = stubbed
    all_ids = ids(12)
    destination(stub)
    pages = [all_ids[0:4], all_ids[4:8], all_ids[8:12]]
    for number, page in enumerate(pages):
        expected = {"StartTime": ANY, "EndTime": ANY, "Sampling": False, "FilterExpression": FILTER}
        if number:
            expected["NextToken"] = f"token-{number}"
        response: dict[str, Any] = {"TraceSummaries": [summary(t) for t in page]}
        if number < 2:
            response["NextToken"] = f"token-{number + 1}"
        stub.add_response("get_trace_summaries", response, expected)
    newest = sorted(all_ids, reverse=True)
    for batch in (newest[0:5], newest[5:10], newest[10:12]):  # at most 5 ids a call
        stub.add_response("batch_get_traces", traces_response(batch), {"TraceIds": batch})
    result = service.trace_stats(aws, aws.settings, since="1h").to_json()
    assert result["count"] == 12


def test_limit_stops_fetching_early(stubbed: Any) -> None:
    aws, stub = stubbed
    all_ids = ids(12)
    destination(stub)
    stub.add_response("get_trace_summaries", {"TraceSummaries": [summary(t) for t in all_ids]})
    newest = sorted(all_ids, reverse=True)
    stub.add_response("batch_get_traces", traces_response(newest[:5]), {"TraceIds": newest[:5]})
    result = service.list_traces(aws, aws.settings, since="1h", limit=3).to_json()
    assert [t["id"] for t in result["traces"]] == newest[:3]


def test_real_endpoint_rejecting_the_filter_falls_back_to_service_ids(stubbed: Any) -> None:
    aws, stub = stubbed
    mine, other = ids(2)
    destination(stub)
    stub.add_client_error(
        "get_trace_summaries",
        "InvalidRequestException",
        "bad filter",
        expected_params={
            "StartTime": ANY,
            "EndTime": ANY,
            "Sampling": False,
            "FilterExpression": FILTER,
        },
    )
    stub.add_response(
        "get_trace_summaries",
        {
            "TraceSummaries": [
                summary(mine, services=[FUNCTION]),
                summary(other, services=["billing-function"]),
            ]
        },
        {"StartTime": ANY, "EndTime": ANY, "Sampling": False},
    )
    # only the lab's trace is fetched: ServiceIds ruled the other out
    stub.add_response("batch_get_traces", traces_response([mine]), {"TraceIds": [mine]})
    result = service.list_traces(aws, aws.settings, since="1h").to_json()
    assert [t["id"] for t in result["traces"]] == [mine]


def _retrieved(ids: list[str]) -> dict[str, Any]:
    """ListRetrievedTraces in the XRAY format: BatchGetTraces' documents as spans."""
    traces = traces_response(ids)["Traces"]
    return {
        "RetrievalStatus": "COMPLETE",
        "TraceFormat": "XRAY",
        "Traces": [
            {"Id": t["Id"], "Duration": 0.5, "Spans": [dict(s) for s in t["Segments"]]}
            for t in traces
        ],
    }


def test_transaction_search_reads_spans_and_the_retrieval_apis(
    stubbed: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Transaction Search account on AWS: one trace indexed (1 %), two more found in
    aws/spans (one as an OpenTelemetry trace id), all three fetched with a retrieval
    that is RUNNING at first; BatchGetTraces never called; the note never advises
    switching the account's destination."""
    from dogxray.traces import transaction_search

    aws, stub = stubbed
    indexed, in_spans, as_otel = ids(3)
    destination(stub, "CloudWatchLogs")
    rule = {"Probabilistic": {"DesiredSamplingPercentage": 1.0}}
    stub.add_response("get_indexing_rules", {"IndexingRules": [{"Name": "Default", "Rule": rule}]})
    stub.add_response("get_trace_summaries", {"TraceSummaries": [summary(indexed)]})
    events = [
        {
            "message": json.dumps(
                {"traceId": as_otel.replace("1-", "").replace("-", ""), "name": FUNCTION}
            )
        },
        {"message": json.dumps({"trace_id": in_spans, "name": FUNCTION})},
    ]
    with Stubber(aws.client("logs")) as logs:
        logs.add_response(
            "filter_log_events",
            {"events": events},
            {
                "logGroupName": "aws/spans",
                "startTime": ANY,
                "endTime": ANY,
                "filterPattern": f'"{FUNCTION}"',
            },
        )
        newest = [as_otel, in_spans, indexed]
        stub.add_response(
            "start_trace_retrieval",
            {"RetrievalToken": "token-1"},
            {"TraceIds": newest, "StartTime": ANY, "EndTime": ANY},
        )
        running = {"RetrievalStatus": "RUNNING", "Traces": []}
        wanted = {"RetrievalToken": "token-1", "TraceFormat": "XRAY"}
        stub.add_response("list_retrieved_traces", running, wanted)
        stub.add_response("list_retrieved_traces", _retrieved(newest), wanted)
        waits: list[float] = []
        monkeypatch.setattr(fetch.time, "sleep", waits.append)
        notes: list[str] = []
        result = service.list_traces(aws, aws.settings, since="1h", warn=notes.append)
        logs.assert_no_pending_responses()
    assert [t["id"] for t in result.to_json()["traces"]] == newest
    assert waits == [transaction_search.POLL_S[0]]
    assert len(notes) == 1 and "Transaction Search" in notes[0] and "1 %" in notes[0]
    assert "update-indexing-rule" in notes[0]
    assert "update-trace-segment-destination" not in notes[0]


def test_missing_destination_api_means_xray(stubbed: Any) -> None:
    aws, stub = stubbed
    stub.add_client_error(
        "get_trace_segment_destination", "UnknownOperationException", http_status_code=404
    )
    stub.add_response("batch_get_traces", traces_response(ids(1)), {"TraceIds": ids(1)})
    assert service.trace_detail(aws, ids(1)[0]).to_json()["id"] == ids(1)[0]


def test_unprocessed_ids_are_retried_with_backoff(stubbed: Any) -> None:
    """Throttling is botocore's to retry (one layer); unprocessed ids are ours."""
    aws, stub = stubbed
    sleeps: list[float] = []
    fetcher = fetch.Fetcher(aws, sleep=sleeps.append)
    batch = ids(3)
    destination(stub)
    first = traces_response(batch[:2])
    first["UnprocessedTraceIds"] = [batch[2]]
    stub.add_response("batch_get_traces", first, {"TraceIds": batch})
    stub.add_response("batch_get_traces", traces_response(batch[2:]), {"TraceIds": batch[2:]})
    got = list(fetcher.documents(batch))
    assert [tid for tid, docs in got if docs] == batch
    assert sleeps == [0.5]  # one unprocessed round


def test_still_unprocessed_is_marked_partial(stubbed: Any) -> None:
    aws, stub = stubbed
    (tid,) = ids(1)
    destination(stub)
    stub.add_response("get_trace_summaries", {"TraceSummaries": [summary(tid, fault=True)]})
    for _ in range(3):
        stub.add_response("batch_get_traces", {"Traces": [], "UnprocessedTraceIds": [tid]})
    fetch_sleep: list[float] = []
    original = fetch.Fetcher.__init__

    def quick(self: fetch.Fetcher, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.sleep = fetch_sleep.append

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fetch.Fetcher, "__init__", quick)
        result = service.list_traces(aws, aws.settings, since="1h").to_json()
    (row,) = result["traces"]
    assert (row["id"], row["partial"], row["fault"]) == (tid, True, True)
    assert fetch_sleep == [0.5, 1.0]
