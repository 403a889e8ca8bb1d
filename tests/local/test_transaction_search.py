"""The emulator as a Transaction Search account (sources: docs/fidelity.md, rows
"Transaction Search"): the CloudWatchLogs destination, spans in aws/spans, a share
indexed as summaries, BatchGetTraces finding nothing, and the trace retrieval APIs."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import botocore.exceptions
import pytest
import requests

from tests.local.conftest import Lab
from tests.local.test_xray import TRACED_ZIP


@pytest.fixture
def search(lab: Lab) -> Iterator[Lab]:
    """The package's emulator switched to a Transaction Search account, 100 % indexed
    unless a test lowers it; switched back afterwards."""
    account = lab.emu.state.search
    saved = (account.destination, account.percent)
    account.destination, account.percent = "CloudWatchLogs", 100.0
    try:
        yield lab
    finally:
        account.destination, account.percent = saved


def _request(lab: Lab, path: str = "/") -> str:
    """One traced request to a new function; its trace id."""
    _, url = lab.deploy({}, code=TRACED_ZIP)
    response = requests.get(url.rstrip("/") + path, timeout=10)
    return response.headers["X-Amzn-Trace-Id"].split(";")[0].removeprefix("Root=")


def _retrieve(lab: Lab, ids: list[str], form: str = "XRAY") -> tuple[list[str], dict[str, Any]]:
    xray = lab.client("xray")
    token = xray.start_trace_retrieval(
        TraceIds=ids, StartTime=time.time() - 300, EndTime=time.time() + 60
    )["RetrievalToken"]
    statuses = []
    while True:
        page = xray.list_retrieved_traces(RetrievalToken=token, TraceFormat=form)
        statuses.append(page["RetrievalStatus"])
        if page["RetrievalStatus"] == "COMPLETE":
            return statuses, page
        assert len(statuses) < 50
        time.sleep(0.05)


def test_the_destination_is_cloudwatch_logs(search: Lab) -> None:
    xray = search.client("xray")
    assert xray.get_trace_segment_destination()["Destination"] == "CloudWatchLogs"
    assert xray.update_trace_segment_destination(Destination="XRay")["Destination"] == "XRay"
    assert xray.get_trace_segment_destination()["Destination"] == "XRay"
    xray.update_trace_segment_destination(Destination="CloudWatchLogs")


def test_spans_reach_the_aws_spans_log_group(search: Lab) -> None:
    trace_id = _request(search)
    otel = trace_id.replace("1-", "", 1).replace("-", "")
    logs = search.client("logs")
    events = logs.filter_log_events(logGroupName="aws/spans", filterPattern=f'"{otel}"')["events"]
    spans = [json.loads(e["message"]) for e in events]
    names = {s["name"] for s in spans}
    assert {"work", "inner", "Invocation"} <= names
    assert all(s["traceId"] == otel for s in spans)
    by_id = {s["spanId"]: s for s in spans}
    work = next(s for s in spans if s["name"] == "work")
    inner = next(s for s in spans if s["name"] == "inner")
    assert inner["parentSpanId"] == work["spanId"]
    assert work["parentSpanId"] in by_id  # the function segment, a span too
    assert work["endTimeUnixNano"] - work["startTimeUnixNano"] == work["durationNano"]


def test_batch_get_traces_finds_nothing_and_summaries_are_the_indexed_share(
    search: Lab,
) -> None:
    xray = search.client("xray")
    trace_id = _request(search)
    assert xray.batch_get_traces(TraceIds=[trace_id])["Traces"] == []
    window = {"StartTime": time.time() - 300, "EndTime": time.time() + 5}
    assert trace_id in {s["Id"] for s in xray.get_trace_summaries(**window)["TraceSummaries"]}
    xray.update_indexing_rule(
        Name="Default", Rule={"Probabilistic": {"DesiredSamplingPercentage": 0}}
    )
    assert xray.get_trace_summaries(**window)["TraceSummaries"] == []
    [rule] = xray.get_indexing_rules()["IndexingRules"]
    assert rule["Name"] == "Default"
    assert rule["Rule"]["Probabilistic"]["DesiredSamplingPercentage"] == 0


def test_about_one_percent_is_indexed_by_default() -> None:
    from dogxray.local.transaction_search import Account

    account = Account(destination="CloudWatchLogs")
    ids = [f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}" for _ in range(20_000)]
    indexed = sum(account.indexed(t) for t in ids)
    assert 140 <= indexed <= 260  # 1 % of 20,000, within ~4 standard deviations
    assert all(account.indexed(t) == account.indexed(t) for t in ids[:100])  # stable


def test_retrieval_runs_then_returns_the_documents(search: Lab) -> None:
    trace_id, failed = _request(search), _request(search, "/fail")
    statuses, page = _retrieve(search, [trace_id, failed])
    assert statuses[0] == "RUNNING" and statuses[-1] == "COMPLETE"
    traces = {t["Id"]: t for t in page["Traces"]}
    assert set(traces) == {trace_id, failed}
    docs = [json.loads(s["Document"]) for s in traces[failed]["Spans"]]
    origins = {d.get("origin") for d in docs}
    assert {"AWS::Lambda", "AWS::Lambda::Function"} <= origins
    inner = next(d for d in docs if d.get("name") == "inner")
    assert inner["cause"]["exceptions"][0]["type"] == "RuntimeError"
    _, otel = _retrieve(search, [trace_id], "OTEL")
    spans = [json.loads(s["Document"]) for s in otel["Traces"][0]["Spans"]]
    assert all("traceId" in s and "spanId" in s for s in spans)


def test_retrieved_traces_graph(search: Lab) -> None:
    trace_id = _request(search)
    xray = search.client("xray")
    token = xray.start_trace_retrieval(
        TraceIds=[trace_id], StartTime=time.time() - 300, EndTime=time.time() + 60
    )["RetrievalToken"]
    time.sleep(0.15)
    graph = xray.get_retrieved_traces_graph(RetrievalToken=token)
    assert graph["RetrievalStatus"] == "COMPLETE"
    types = {s["Service"]["Type"] for s in graph["Services"]}
    assert {"AWS::Lambda", "AWS::Lambda::Function"} <= types
    xray.cancel_trace_retrieval(RetrievalToken=token)
    with pytest.raises(botocore.exceptions.ClientError) as gone:
        xray.list_retrieved_traces(RetrievalToken=token)
    assert gone.value.response["Error"]["Code"] == "InvalidRequestException"


@pytest.mark.parametrize(
    ("call", "kwargs", "message"),
    [
        ("start_trace_retrieval", {"TraceIds": [], "StartTime": 1, "EndTime": 2}, "1 to 100"),
        ("start_trace_retrieval", {"TraceIds": ["1-a-b"], "StartTime": 2, "EndTime": 1}, "before"),
        ("list_retrieved_traces", {"RetrievalToken": "nope"}, "RetrievalToken"),
        (
            "update_indexing_rule",
            {"Name": "Default", "Rule": {"Probabilistic": {"DesiredSamplingPercentage": 101}}},
            "0 to 100",
        ),
        (
            "update_indexing_rule",
            {"Name": "Other", "Rule": {"Probabilistic": {"DesiredSamplingPercentage": 1}}},
            "no indexing rule",
        ),
    ],
)
def test_bad_requests_get_xrays_error(
    search: Lab, call: str, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        getattr(search.client("xray"), call)(**kwargs)
    assert caught.value.response["Error"]["Code"] == "InvalidRequestException"
    assert message in caught.value.response["Error"]["Message"]


def test_an_xray_account_has_no_retrieval(lab: Lab) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        lab.client("xray").start_trace_retrieval(
            TraceIds=["1-6b000000-000000000000000000000001"], StartTime=1, EndTime=2
        )
    assert "destination is XRay" in caught.value.response["Error"]["Message"]
