"""The control plane's typed results print the SPEC section 4 documents: the same keys in
the same order as the dicts they replace, optional keys only when they apply."""

from __future__ import annotations

import json

from dogxray.lab.results import BucketSwitch, CleanupResult, LabResult, LabStatus, ResourceStatus

LAB = LabResult(
    lab="dog-photo",
    region="us-east-1",
    bucket="b",
    role_arn="arn:aws:iam::123456789012:role/r",
    function_arn="arn:aws:lambda:us-east-1:123456789012:function:f",
    function_url=None,
    changed=["bucket"],
    unchanged=["role"],
)
BASE = (
    '{"lab": "dog-photo", "region": "us-east-1", "bucket": "b", '
    '"role_arn": "arn:aws:iam::123456789012:role/r", '
    '"function_arn": "arn:aws:lambda:us-east-1:123456789012:function:f", '
    '"function_url": null, "changed": ["bucket"], "unchanged": ["role"]'
)


def test_setup_and_stage_documents() -> None:
    assert json.dumps(LAB.to_json()) == BASE + "}"
    LAB.plan = []
    assert json.dumps(LAB.to_json()) == BASE + ', "plan": []}'
    LAB.plan, LAB.bucket_preexisting = None, False
    assert json.dumps(LAB.to_json()) == BASE + ', "bucket_preexisting": false}'


def test_cleanup_status_and_bucket_switch_documents() -> None:
    dry = CleanupResult(["bucket b"], [], ["n"], [{"op": "x"}], dry_run=True)
    assert json.dumps(dry.to_json()) == (
        '{"deleted": ["bucket b"], "remaining": [], "notes": ["n"], "kept": [], "dry_run": true, '
        '"plan": [{"op": "x"}]}'
    )
    done = CleanupResult([], [], [], [])
    assert json.dumps(done.to_json()) == (
        '{"deleted": [], "remaining": [], "notes": [], "kept": [], "plan": []}'
    )
    status = LabStatus("dog-photo", "eu-west-1", [ResourceStatus("bucket", "b", False)], None)
    assert json.dumps(status.to_json()) == (
        '{"lab": "dog-photo", "region": "eu-west-1", "resources": [{"kind": "bucket", '
        '"name": "b", "exists": false, "drift": []}], "function_url": null, '
        '"trace_destination": null, "tracer": null, "reserved_concurrency": null, "alarm": null}'
    )
    switch = BucketSwitch("f", "x", "b", True, "m", None)
    assert json.dumps(switch.to_json()) == (
        '{"function": "f", "bucket_name": "x", "real_bucket": "b", "changed": true, '
        '"message": "m", "hint": null}'
    )
