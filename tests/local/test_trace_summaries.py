"""The emulator's GetTraceSummaries: X-Ray's summary fields computed from the stored
documents, and the subset of X-Ray's filter expression language it evaluates (the
console filter guide's own examples among them); anything else refused with X-Ray's
InvalidRequestException, never ignored."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from dogxray.local import trace_summaries as ts
from tests.local.conftest import Lab

ROOT = "1-6926f300-0123456789abcdef01234567"
T0 = 1_764_160_256.0


def _lab_trace() -> list[dict[str, Any]]:
    """A failing lab request: Lambda's two segments, the handler's subsegments, the S3
    call's fault with its exception, and X-Ray's inferred S3 segment."""
    cause = {"exceptions": [{"type": "NoSuchBucket", "message": "no bucket", "remote": True}]}
    return [
        {
            "id": "a" * 16,
            "name": "dog-photo-function",
            "origin": "AWS::Lambda",
            "trace_id": ROOT,
            "start_time": T0,
            "end_time": T0 + 0.4,
            "http": {
                "request": {"method": "GET", "url": "https://x.lambda-url/"},
                "response": {"status": 200},
            },
            "aws": {"account_id": "123456789012"},
        },
        {
            "id": "b" * 16,
            "name": "dog-photo-function",
            "origin": "AWS::Lambda::Function",
            "trace_id": ROOT,
            "parent_id": "a" * 16,
            "start_time": T0 + 0.01,
            "end_time": T0 + 0.39,
            "fault": True,
            "aws": {"function_arn": "arn:aws:lambda:us-east-1:123456789012:function:f"},
            "subsegments": [
                {
                    "id": "c" * 16,
                    "name": "get_dog_images",
                    "start_time": T0 + 0.02,
                    "end_time": T0 + 0.38,
                    "fault": True,
                    "annotations": {"breed": "corgi", "image_bytes": 1025},
                    "subsegments": [
                        {
                            "id": "d" * 16,
                            "name": "save_dog_to_s3",
                            "start_time": T0 + 0.1,
                            "end_time": T0 + 0.38,
                            "fault": True,
                            "cause": cause,
                        }
                    ],
                }
            ],
        },
    ]


def test_a_summary_carries_what_a_listing_needs() -> None:
    s = ts.summarize(ROOT, _lab_trace())
    assert (s["Id"], s["StartTime"], s["Duration"], s["ResponseTime"]) == (ROOT, T0, 0.4, 0.4)
    assert (s["HasFault"], s["HasError"], s["HasThrottle"], s["IsPartial"]) == (
        True,
        False,
        False,
        False,
    )
    assert s["Http"] == {"HttpURL": "https://x.lambda-url/", "HttpStatus": 200, "HttpMethod": "GET"}
    assert s["EntryPoint"] == {
        "Name": "dog-photo-function",
        "Names": ["dog-photo-function"],
        "Type": "AWS::Lambda",
        "AccountId": "123456789012",
    }
    assert {(x["Name"], x.get("Type")) for x in s["ServiceIds"]} == {
        ("dog-photo-function", "AWS::Lambda"),
        ("dog-photo-function", "AWS::Lambda::Function"),
    }
    assert s["ResourceARNs"] == [{"ARN": "arn:aws:lambda:us-east-1:123456789012:function:f"}]
    [breed] = s["Annotations"]["breed"]
    assert breed["AnnotationValue"] == {"StringValue": "corgi"}
    assert breed["ServiceIds"][0]["Type"] == "AWS::Lambda::Function"
    assert s["Annotations"]["image_bytes"][0]["AnnotationValue"] == {"NumberValue": 1025.0}
    [cause] = s["FaultRootCauses"]
    [service] = cause["Services"]
    assert service["Type"] == "AWS::Lambda::Function"
    assert [e["Name"] for e in service["EntityPath"]] == [
        "dog-photo-function",
        "get_dog_images",
        "save_dog_to_s3",
    ]
    assert service["EntityPath"][-1]["Exceptions"] == [
        {"Name": "NoSuchBucket", "Message": "no bucket"}
    ]
    assert s["ErrorRootCauses"] == []


@pytest.mark.parametrize(
    ("expression", "keeps"),
    [
        ('service("dog-photo-function")', True),
        ('service("another")', False),
        ("fault", True),
        ("ok", False),
        ("!ok", True),
        ("error OR throttle", False),
        ("responsetime > 5", False),  # the filter guide's example
        ("duration >= 0.1 AND duration <= 0.5", True),  # its compound example, in seconds
        ('annotation.breed = "corgi"', True),
        ("annotation.image_bytes > 1000", True),
        ("http.status = 200", True),
        ('http.method = "GET" AND (fault OR error)', True),
        ('service("dog-photo-function") AND responsetime < 0.1', False),
    ],
)
def test_filter_expressions(expression: str, keeps: bool) -> None:
    assert ts.parse(expression)(ts.summarize(ROOT, _lab_trace())) is keeps


@pytest.mark.parametrize(
    "expression",
    [
        'service(id(name: "dog-photo-function", type: "AWS::Lambda::Function"))',
        'edge("a", "b")',
        "responsetime > fast",
        "fault AND",
        "(fault",
        'rootcause.fault.service { name = "x" }',
    ],
)
def test_what_the_emulator_does_not_evaluate_is_refused(expression: str) -> None:
    with pytest.raises(ts.InvalidFilter):
        ts.parse(expression)


@pytest.mark.slow
def test_get_trace_summaries_on_the_emulator(lab: Lab) -> None:
    name, url = lab.deploy({"app.py": "def handler(event, context):\n    raise ValueError('x')\n"})
    assert requests.get(url, timeout=30).status_code == 502
    xray = lab.client("xray")
    window = {"StartTime": time.time() - 60, "EndTime": time.time() + 5}
    found = xray.get_trace_summaries(**window, FilterExpression=f'service("{name}") AND fault')
    [summary] = found["TraceSummaries"]
    # the entry point is Lambda's AWS::Lambda segment: the invoke itself answered 200
    assert summary["HasFault"] and summary["Http"]["HttpStatus"] == 200
    assert summary["EntryPoint"]["Name"] == name and "StartTime" in summary
    assert (
        summary["FaultRootCauses"][0]["Services"][0]["EntityPath"][-1]["Exceptions"][0]["Name"]
        == "ValueError"
    )
    ok = xray.get_trace_summaries(**window, FilterExpression=f'service("{name}") AND ok')
    assert ok["TraceSummaries"] == []
    with pytest.raises(ClientError) as refused:
        xray.get_trace_summaries(**window, FilterExpression='edge("a", "b")')
    assert refused.value.response["Error"]["Code"] == "InvalidRequestException"


def test_the_answer_reuses_each_summarys_json() -> None:
    """The encoded answer is the document's JSON: cached summaries contribute the text
    they were encoded to once, a plain summary (or an empty list) is encoded as usual."""
    one = ts._encoded({"Id": "1-a", "Duration": 0.5, "Http": {"HttpStatus": 502}})
    one.text = json.dumps({**one, "Duration": 9.0})  # the text, not the dict, is written
    doc = {
        "TraceSummaries": [one, {"Id": "1-b", "HasFault": True}],
        "ApproximateTime": 1.5,
        "TracesProcessedCount": 2,
    }
    decoded = json.loads(ts.encode(doc))
    assert decoded == {
        "TraceSummaries": [
            {"Id": "1-a", "Duration": 9.0, "Http": {"HttpStatus": 502}},
            {"Id": "1-b", "HasFault": True},
        ],
        "ApproximateTime": 1.5,
        "TracesProcessedCount": 2,
    }
    assert json.loads(ts.encode({"TraceSummaries": []})) == {"TraceSummaries": []}
    assert one == {"Id": "1-a", "Duration": 0.5, "Http": {"HttpStatus": 502}}  # still a dict
