"""A fault (an AWS error or Ctrl-C) at each mutating step: a re-run converges, and a
cleanup of the partial lab leaves nothing. Faults are injected on moto's calls."""

from __future__ import annotations

import pytest

from dogxray.errors import DogxrayError
from dogxray.lab import service
from dogxray.lab.models import SetupOptions

from .conftest import Lab, tiny_zip
from .test_service_moto import _lab_leftovers

SETUP_MUTATIONS = [
    ("s3", "CreateBucket"),
    ("s3", "PutBucketTagging"),
    ("iam", "CreateRole"),
    ("iam", "PutRolePolicy"),
    ("logs", "CreateLogGroup"),
    ("lambda", "CreateFunction"),
    ("lambda", "CreateFunctionUrlConfig"),
    ("lambda", "AddPermission"),
]
CLEANUP_MUTATIONS = [
    ("lambda", "DeleteFunctionUrlConfig"),
    ("lambda", "DeleteFunction"),
    ("logs", "DeleteLogGroup"),
    ("iam", "DeleteRolePolicy"),
    ("iam", "DeleteRole"),
    ("s3", "DeleteObjects"),
    ("s3", "DeleteBucket"),
]


def setup(lab: Lab) -> dict:
    return service.setup(lab.aws, SetupOptions(), zip_provider=tiny_zip, executor=lab.executor)


def inject(lab: Lab, service_name: str, op: str, kind: str) -> None:
    if kind == "interrupt":
        lab.faults.interrupt(service_name, op)
    else:
        lab.faults.fail(service_name, op, "AccessDenied", "injected denial", status=403)


def run_faulty_setup(lab: Lab, kind: str) -> None:
    with pytest.raises(KeyboardInterrupt if kind == "interrupt" else Exception):
        setup(lab)


@pytest.mark.parametrize("kind", ["error", "interrupt"])
@pytest.mark.parametrize(("svc", "op"), SETUP_MUTATIONS)
def test_fault_in_setup_then_rerun_converges(lab: Lab, svc: str, op: str, kind: str) -> None:
    inject(lab, svc, op, kind)
    run_faulty_setup(lab, kind)
    assert lab.faults.pending(svc, op) == 0, "the fault must have fired"
    setup(lab)
    lab.calls.clear()
    assert setup(lab)["changed"] == [] and lab.calls.mutating == []
    assert all(not r["drift"] and r["exists"] for r in service.status(lab.aws)["resources"])
    assert service.cleanup(lab.aws, executor=lab.executor)["remaining"] == []
    assert _lab_leftovers(lab) == []


@pytest.mark.parametrize("kind", ["error", "interrupt"])
@pytest.mark.parametrize(("svc", "op"), SETUP_MUTATIONS)
def test_fault_in_setup_then_cleanup_leaves_nothing(lab: Lab, svc: str, op: str, kind: str) -> None:
    inject(lab, svc, op, kind)
    run_faulty_setup(lab, kind)
    doc = service.cleanup(lab.aws, executor=lab.executor)
    assert doc["remaining"] == []
    assert _lab_leftovers(lab) == []


@pytest.mark.parametrize(("svc", "op"), CLEANUP_MUTATIONS)
def test_fault_in_cleanup_then_rerun_finishes(lab: Lab, svc: str, op: str) -> None:
    setup(lab)
    lab.client("s3").put_object(Bucket="lovely-dogs-123456789012-us-east-1", Key="d", Body=b"x")
    inject(lab, svc, op, "error")
    with pytest.raises(Exception, match="injected denial"):
        service.cleanup(lab.aws, executor=lab.executor)
    assert service.cleanup(lab.aws, executor=lab.executor)["remaining"] == []
    assert _lab_leftovers(lab) == []


def test_throttled_setup_backs_off_and_succeeds(lab: Lab) -> None:
    lab.faults.fail("lambda", "CreateFunction", "TooManyRequestsException", times=2, status=429)
    lab.faults.fail("iam", "CreateRole", "Throttling", times=1, status=400)
    lab.faults.fail("s3", "CreateBucket", "SlowDown", times=1, status=503)
    doc = setup(lab)
    assert "function" in doc["changed"]
    assert sorted(lab.sleeps) == [1.0, 1.0, 1.0, 2.0]


def test_role_propagation_during_setup_is_waited_out(lab: Lab) -> None:
    lab.faults.fail(
        "lambda",
        "CreateFunction",
        "InvalidParameterValueException",
        "The role defined for the function cannot be assumed by Lambda.",
        times=4,
    )
    doc = setup(lab)
    assert doc["function_url"] and lab.sleeps == [5.0] * 4


def test_bucket_owned_by_another_account_is_explained(lab: Lab) -> None:
    lab.faults.fail("s3", "CreateBucket", "BucketAlreadyExists", "taken", status=409)
    with pytest.raises(DogxrayError) as info:
        setup(lab)
    assert info.value.what == (
        "bucket lovely-dogs-123456789012-us-east-1 already exists and belongs to another "
        "AWS account"
    )
    assert "--bucket NAME" in str(info.value.hint)
    assert service.cleanup(lab.aws, executor=lab.executor)["remaining"] == []
