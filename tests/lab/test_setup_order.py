"""`setup` checks everything it can before its first change, and a failure after any
change leaves a lab that a re-run finishes and `cleanup` removes (nothing tagged left)."""

from __future__ import annotations

from typing import Any

import pytest

from dogxray.core.config import TAG_LAB
from dogxray.core.errors import DogxrayError
from dogxray.lab import service
from dogxray.lab.models import SetupOptions

from .conftest import Lab, tiny_zip
from .test_faults import SETUP_MUTATIONS


def run_setup(lab: Lab) -> dict[str, Any]:
    return service.setup(
        lab.aws, SetupOptions(), zip_provider=tiny_zip, executor=lab.executor
    ).to_json()


def tagged_leftovers(lab: Lab) -> list[str]:
    """Every resource in the account and region that carries the lab's tag."""
    lab_name = lab.aws.settings.lab
    found: list[str] = []
    s3 = lab.client("s3")
    for bucket in s3.list_buckets()["Buckets"]:
        try:
            tags = s3.get_bucket_tagging(Bucket=bucket["Name"])["TagSet"]
        except Exception:
            tags = []
        if {"Key": TAG_LAB, "Value": lab_name} in tags:
            found.append(f"bucket {bucket['Name']}")
    lam = lab.client("lambda")
    for fn in lam.list_functions()["Functions"]:
        if lam.list_tags(Resource=fn["FunctionArn"])["Tags"].get(TAG_LAB) == lab_name:
            found.append(f"function {fn['FunctionName']}")
    iam = lab.client("iam")
    for role in iam.list_roles()["Roles"]:
        tags = iam.list_role_tags(RoleName=role["RoleName"])["Tags"]
        if {"Key": TAG_LAB, "Value": lab_name} in tags:
            found.append(f"role {role['RoleName']}")
    logs = lab.client("logs")
    for group in logs.describe_log_groups()["logGroups"]:
        tags = logs.list_tags_log_group(logGroupName=group["logGroupName"])["tags"]
        if tags.get(TAG_LAB) == lab_name:
            found.append(f"log group {group['logGroupName']}")
    return found


def fail_after(lab: Lab, service_name: str, op: str) -> list[str]:
    """The call goes through, then the run dies (a lost connection, a crash)."""
    fired: list[str] = []

    def boom(**_: Any) -> None:
        if not fired:
            fired.append(op)
            raise RuntimeError(f"injected failure after {op}")

    lab.client(service_name).meta.events.register(f"after-call.{service_name}.{op}", boom)
    return fired


@pytest.mark.parametrize(("svc", "op"), SETUP_MUTATIONS)
def test_failure_after_each_change_then_rerun_converges(lab: Lab, svc: str, op: str) -> None:
    fired = fail_after(lab, svc, op)
    with pytest.raises(RuntimeError, match=f"after {op}"):
        run_setup(lab)
    assert fired == [op]
    doc = run_setup(lab)
    assert doc["function_url"]
    lab.calls.clear()
    assert run_setup(lab)["changed"] == [] and lab.calls.mutating == []
    assert all(
        r["exists"] and not r["drift"] for r in service.status(lab.aws).to_json()["resources"]
    )
    assert service.cleanup(lab.aws, executor=lab.executor).to_json()["remaining"] == []
    assert tagged_leftovers(lab) == []


@pytest.mark.parametrize(("svc", "op"), SETUP_MUTATIONS)
def test_failure_after_each_change_then_cleanup_leaves_nothing_tagged(
    lab: Lab, svc: str, op: str
) -> None:
    fail_after(lab, svc, op)
    with pytest.raises(RuntimeError):
        run_setup(lab)
    assert service.cleanup(lab.aws, executor=lab.executor).to_json()["remaining"] == []
    assert tagged_leftovers(lab) == []


def test_a_zip_that_cannot_be_built_changes_nothing(lab: Lab) -> None:
    def no_zip(runtime: str, arch: str, local: bool, **_: Any) -> bytes:
        raise DogxrayError("could not download the function's dependencies: injected")

    with pytest.raises(DogxrayError, match="injected"):
        service.setup(lab.aws, SetupOptions(), zip_provider=no_zip, executor=lab.executor).to_json()
    assert lab.calls.mutating == []
    assert tagged_leftovers(lab) == []


def test_dry_run_builds_and_plans_but_changes_nothing(lab: Lab) -> None:
    doc = service.setup(lab.aws, SetupOptions(), dry_run=True, zip_provider=tiny_zip).to_json()
    assert lab.calls.mutating == []
    assert doc["plan"][0]["operation"] == "CreateBucket"
    assert doc["plan"][0]["message"].startswith("create bucket ")
    assert any(st["operation"] == "CreateFunction" for st in doc["plan"])
