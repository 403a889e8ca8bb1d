"""`traces` from the trace summaries: rows without documents where a summary says enough,
documents only for the rest and for `--subsegments`; a summary that says too little
(moto's, or a failed trace without a root cause) is fetched as before."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from botocore.stub import ANY

from dogxray.local.trace_summaries import summarize
from dogxray.traces import service, summary_row
from dogxray.traces.analysis import analyse
from dogxray.traces.fetch import filter_expression
from dogxray.traces.model import build_trace
from tests.traces.test_fetch_stubbed import destination, ids, stubbed, traces_response
from tests.traces.tracedocs import FUNCTION, NAMES, load, separate

__all__ = ["stubbed"]  # the fixture, imported for this module's tests


def _when(trace_id: str) -> datetime:
    return datetime.fromtimestamp(int(trace_id[2:10], 16), timezone.utc)


def captured_ok(trace_id: str, name: str = FUNCTION) -> dict[str, Any]:
    """The shape of a real Lambda trace's summary (a GetTraceSummaries answer captured
    from an AWS account in a public repository; docs/fidelity.md): three ServiceIds
    (the Lambda service, the function, the `client`), the entry point, HTTP 200."""
    return {
        "Annotations": {},
        "AvailabilityZones": [],
        "Duration": 1.311,
        "EntryPoint": {"Name": name, "Names": [name], "Type": "AWS::Lambda"},
        "ErrorRootCauses": [],
        "FaultRootCauses": [],
        "HasError": False,
        "HasFault": False,
        "HasThrottle": False,
        "Http": {"HttpStatus": 200},
        "Id": trace_id,
        "InstanceIds": [],
        "IsPartial": False,
        "ResourceARNs": [{"ARN": f"arn:aws:lambda:us-east-1:498545057811:function:{name}"}],
        "ResponseTime": 1.157,
        "ResponseTimeRootCauses": [],
        "Revision": 1,
        "ServiceIds": [
            {"Name": name, "Names": [name], "Type": "AWS::Lambda"},
            {"Name": name, "Names": [name], "Type": "client"},
            {
                "AccountId": "498545057811",
                "Name": name,
                "Names": [name],
                "Type": "AWS::Lambda::Function",
            },
        ],
        "StartTime": _when(trace_id),
        "Users": [],
    }


def with_fault(doc: dict[str, Any], path: list[dict[str, Any]]) -> dict[str, Any]:
    cause = {
        "ClientImpacting": True,
        "Services": [
            {
                "Name": FUNCTION,
                "Names": [FUNCTION],
                "Type": "AWS::Lambda::Function",
                "EntityPath": path,
                "Inferred": False,
            }
        ],
    }
    return dict(doc, HasFault=True, FaultRootCauses=[cause])


S3_PATH = [
    {"Name": FUNCTION},
    {"Name": "get_dog_images"},
    {"Name": "save_dog_to_s3"},
    {
        "Name": "S3",
        "Exceptions": [{"Name": "NoSuchBucket", "Message": "no bucket"}],
        "Remote": True,
    },
]


def test_a_captured_summary_gives_the_row() -> None:
    tid = ids(1)[0]
    row = summary_row.row(captured_ok(tid))
    assert row is not None and row.timings is None
    assert row.to_json() == {
        "id": tid,
        "start": _when(tid).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "duration_ms": 1311.0,
        "status": 200,
        "fault": False,
        "error": False,
        "throttle": False,
        "subsegments": None,
        "root_cause": None,
    }


def test_a_failure_whose_summary_names_no_exception_needs_the_documents() -> None:
    """As captured from AWS: HasError with empty ErrorRootCauses and HTTP 200."""
    assert summary_row.row(dict(captured_ok(ids(1)[0]), HasError=True)) is None


def test_a_function_error_is_the_function_urls_502_and_the_cause_its_lab_subsegment() -> None:
    tid = ids(1)[0]
    handler = [
        {"Name": FUNCTION},
        {"Name": "Invocation", "Exceptions": [{"Name": "ClientError", "Message": "x"}]},
    ]
    doc = with_fault(captured_ok(tid), S3_PATH)
    doc["FaultRootCauses"] += with_fault(doc, handler)["FaultRootCauses"]
    row = summary_row.row(doc)
    assert row is not None and (row.status, row.fault) == (502, True)
    assert row.root_cause == {
        "segment": "save_dog_to_s3",
        "exception": "NoSuchBucket",
        "message": "no bucket",
        "remote": True,
    }
    caught = summary_row.row(with_fault(captured_ok(tid), S3_PATH))  # the handler coped
    assert caught is not None and caught.status == 200


def test_moto_shaped_summaries_give_no_row() -> None:
    tid = ids(1)[0]
    for missing in ("StartTime", "Duration", "ServiceIds"):
        raw = captured_ok(tid)
        del raw[missing]
        assert summary_row.row(raw) is None, missing


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("form", ["embedded", "separate"])
def test_the_emulators_summary_row_agrees_with_the_documents(name: str, form: str) -> None:
    """The row from the emulator's summary of a recording is the row `analyse` builds
    from its documents (less the subsegment times), where the summary gives one."""
    recording = load(name)
    docs = recording["documents"] if form == "embedded" else separate(recording["documents"])
    raw = summarize(recording["trace_id"], docs)
    raw["StartTime"] = datetime.fromtimestamp(raw["StartTime"], timezone.utc)  # as botocore parses
    row = summary_row.row(raw)
    if row is None:
        return
    full = analyse(build_trace(recording["trace_id"], [json.dumps(d) for d in docs])).to_json()
    assert row.to_json() == {**full, "subsegments": None}


def expected(**extra: Any) -> dict[str, Any]:
    return {"StartTime": ANY, "EndTime": ANY, "Sampling": False, **extra}


def test_the_listing_reads_summaries_only(stubbed: Any) -> None:
    aws, stub = stubbed
    mine = ids(6)
    destination(stub)
    summaries = [captured_ok(t) for t in mine] + [captured_ok(ids(1, 0x69000000)[0], "billing")]
    summaries[2] = with_fault(summaries[2], S3_PATH)
    stub.add_response(
        "get_trace_summaries",
        {"TraceSummaries": summaries},
        expected(FilterExpression=f'service("{FUNCTION}")'),
    )
    result = service.list_traces(aws, aws.settings, since="1h", limit=4).to_json()
    # the other function's summary (an endpoint that ignored the filter) is left out
    assert [t["id"] for t in result["traces"]] == sorted(mine, reverse=True)[:4]
    assert [t["root_cause"] and t["root_cause"]["exception"] for t in result["traces"]] == [
        None,
        None,
        None,
        "NoSuchBucket",
    ]
    assert all(t["subsegments"] is None for t in result["traces"])  # the key stays


def test_subsegments_fetch_only_the_rows_returned(stubbed: Any) -> None:
    aws, stub = stubbed
    mine = ids(12)
    destination(stub)
    stub.add_response("get_trace_summaries", {"TraceSummaries": [captured_ok(t) for t in mine]})
    newest = sorted(mine, reverse=True)[:2]
    stub.add_response("batch_get_traces", traces_response(newest), {"TraceIds": newest})
    result = service.list_traces(aws, aws.settings, since="1h", limit=2, subsegments=True)
    rows = result.to_json()["traces"]
    assert [t["id"] for t in rows] == newest
    assert all(t["subsegments"]["save_dog_to_s3"] is not None for t in rows)


def test_errors_are_filtered_server_side_and_summaries_without_a_cause_fetched(
    stubbed: Any,
) -> None:
    aws, stub = stubbed
    failed, unexplained = ids(2)
    destination(stub)
    stub.add_response(
        "get_trace_summaries",
        {
            "TraceSummaries": [
                with_fault(captured_ok(failed), S3_PATH),
                dict(captured_ok(unexplained), HasError=True),
            ]
        },
        expected(FilterExpression=filter_expression(FUNCTION, None, None, failed=True)),
    )
    stub.add_response(
        "batch_get_traces",
        traces_response([unexplained], "fault_separate"),
        {"TraceIds": [unexplained]},
    )
    rows = service.list_traces(aws, aws.settings, since="1h", errors_only=True).to_json()["traces"]
    assert [t["id"] for t in rows] == [unexplained, failed]
    assert rows[0]["subsegments"] is not None and rows[1]["subsegments"] is None


def test_the_errors_filter_text() -> None:
    assert filter_expression("f", 0.5, None, failed=True) == (
        'service("f") AND responsetime > 0.5 AND (fault OR error OR throttle)'
    )


def test_the_emulator_evaluates_the_listing_filters() -> None:
    from dogxray.local.trace_summaries import parse

    fault = summarize(
        "1-6926f300-0123456789abcdef01234567", separate(load("fault_separate")["documents"])
    )
    ok = summarize("1-6926f300-0123456789abcdef01234568", load("success_embedded")["documents"])
    errors = parse(filter_expression(FUNCTION, None, None, failed=True))
    assert errors(fault) and not errors(ok)
    assert parse(filter_expression(FUNCTION, 1.0, None))(ok) and not parse(
        filter_expression(FUNCTION, 1.0, None)
    )(fault)
