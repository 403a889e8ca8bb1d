"""A fault (an AWS error or Ctrl-C) at each mutating step: a re-run converges, and a
cleanup of the partial lab leaves nothing. Faults are injected on moto's calls."""

from __future__ import annotations

import pytest

from dogxray.core.aws import ClientError, error_code, error_message
from dogxray.core.errors import DogxrayError
from dogxray.lab import service
from dogxray.lab.models import SetupOptions

from .conftest import Lab, tiny_zip
from .test_service_moto import ROLE, _lab_leftovers

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


def run_setup(lab: Lab) -> dict:
    return service.setup(
        lab.aws, SetupOptions(), zip_provider=tiny_zip, executor=lab.executor
    ).to_json()


def inject(lab: Lab, service_name: str, op: str, kind: str) -> None:
    if kind == "interrupt":
        lab.faults.interrupt(service_name, op)
    else:
        lab.faults.fail(service_name, op, "AccessDenied", "injected denial", status=403)


def run_faulty_setup(lab: Lab, kind: str) -> None:
    if kind == "interrupt":
        with pytest.raises(KeyboardInterrupt):
            run_setup(lab)
        return
    with pytest.raises(ClientError) as info:  # the injected denial itself, nothing else
        run_setup(lab)
    assert (error_code(info.value), error_message(info.value)) == (
        "AccessDenied",
        "injected denial",
    )


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["error", "interrupt"])
@pytest.mark.parametrize(("svc", "op"), SETUP_MUTATIONS)
def test_fault_in_setup_then_rerun_converges(lab: Lab, svc: str, op: str, kind: str) -> None:
    inject(lab, svc, op, kind)
    run_faulty_setup(lab, kind)
    assert lab.faults.pending(svc, op) == 0, "the fault must have fired"
    run_setup(lab)
    lab.calls.clear()
    assert run_setup(lab)["changed"] == [] and lab.calls.mutating == []
    assert all(
        not r["drift"] and r["exists"] for r in service.status(lab.aws).to_json()["resources"]
    )
    assert service.cleanup(lab.aws, executor=lab.executor).to_json()["remaining"] == []
    assert _lab_leftovers(lab) == []


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["error", "interrupt"])
@pytest.mark.parametrize(("svc", "op"), SETUP_MUTATIONS)
def test_fault_in_setup_then_cleanup_leaves_nothing(lab: Lab, svc: str, op: str, kind: str) -> None:
    inject(lab, svc, op, kind)
    run_faulty_setup(lab, kind)
    doc = service.cleanup(lab.aws, executor=lab.executor).to_json()
    assert doc["remaining"] == []
    assert _lab_leftovers(lab) == []


@pytest.mark.slow
@pytest.mark.parametrize(("svc", "op"), CLEANUP_MUTATIONS)
def test_fault_in_cleanup_then_rerun_finishes(lab: Lab, svc: str, op: str) -> None:
    run_setup(lab)
    lab.client("s3").put_object(Bucket="lovely-dogs-123456789012-us-east-1", Key="d", Body=b"x")
    inject(lab, svc, op, "error")
    with pytest.raises(Exception, match="injected denial"):
        service.cleanup(lab.aws, executor=lab.executor).to_json()
    assert service.cleanup(lab.aws, executor=lab.executor).to_json()["remaining"] == []
    assert _lab_leftovers(lab) == []


def test_role_propagation_during_setup_is_waited_out(lab: Lab) -> None:
    lab.faults.fail(
        "lambda",
        "CreateFunction",
        "InvalidParameterValueException",
        "The role defined for the function cannot be assumed by Lambda.",
        times=4,
    )
    doc = run_setup(lab)
    assert doc["function_url"] and lab.sleeps == [5.0] * 4


def test_bucket_owned_by_another_account_is_explained(lab: Lab) -> None:
    lab.faults.fail("s3", "CreateBucket", "BucketAlreadyExists", "taken", status=409)
    with pytest.raises(DogxrayError) as info:
        run_setup(lab)
    assert info.value.what == (
        "bucket lovely-dogs-123456789012-us-east-1 already exists and belongs to another "
        "AWS account"
    )
    assert "--bucket NAME" in str(info.value.hint)
    assert service.cleanup(lab.aws, executor=lab.executor).to_json()["remaining"] == []


def _role_survives_deletion(lab: Lab) -> None:
    """DeleteRole answers "already gone" but the role stays (a stale IAM read)."""
    lab.faults.fail("iam", "DeleteRole", "NoSuchEntity", "gone", status=404)


def test_cleanup_reports_what_remains_after_rechecking(lab: Lab) -> None:
    run_setup(lab)
    _role_survives_deletion(lab)
    lab.sleeps.clear()
    doc = service.cleanup(lab.aws, executor=lab.executor).to_json()
    assert doc["remaining"] == ["role dog-photo-function-role-us-east-1"]
    assert lab.sleeps == [2.0, 2.0, 2.0]  # re-checked before giving up


def test_cleanup_recheck_waits_out_eventual_consistency(lab: Lab) -> None:
    run_setup(lab)
    _role_survives_deletion(lab)
    iam = lab.client("iam")

    def propagate(_seconds: float) -> None:
        iam.delete_role(RoleName=ROLE)  # its policies went first; now the role catches up

    lab.executor.sleep = propagate
    assert service.cleanup(lab.aws, executor=lab.executor).to_json()["remaining"] == []


def test_cli_cleanup_that_leaves_something_exits_1(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from dogxray.app import app

    run_setup(lab)
    real = service.cleanup

    def cleanup(aws: object, *, dry_run: bool = False, **_reporter: object) -> object:
        if not dry_run:
            _role_survives_deletion(lab)  # on the CLI's own session below
        return real(aws, dry_run=dry_run, executor=lab.executor if not dry_run else None)

    monkeypatch.setattr(service, "cleanup", cleanup)
    monkeypatch.setattr("dogxray.commands.lab.connect", lambda _ctx: lab.aws)
    result = CliRunner().invoke(app, ["cleanup", "--yes"])
    assert result.exit_code == 1, result.output
    assert (
        "still present under the lab's names and tags:\n  role dog-photo-function-role-us-east-1\n"
        in result.stdout
    )
    assert result.stderr.splitlines()[-2:] == [
        "error: cleanup could not verify that the lab is gone: role "
        "dog-photo-function-role-us-east-1 still exist(s)",
        "hint: re-run `dogxray cleanup --yes` (it continues where it stopped); --debug shows "
        "the API calls",
    ]
    assert "Traceback" not in result.output


def test_objects_that_refuse_deletion_are_named_not_left_to_bucket_not_empty(lab: Lab) -> None:
    """DeleteObjects answers 200 with per-object `Errors` (object lock, permissions)."""
    run_setup(lab)
    s3 = lab.client("s3")
    s3.put_object(Bucket="lovely-dogs-123456789012-us-east-1", Key="locked.jpg", Body=b"x")

    def report(parsed: dict, **_: object) -> None:
        parsed["Errors"] = [{"Key": "locked.jpg", "Code": "AccessDenied", "Message": "locked"}]

    s3.meta.events.register("after-call.s3.DeleteObjects", report)
    with pytest.raises(DogxrayError) as info:
        service.cleanup(lab.aws, executor=lab.executor).to_json()
    assert info.value.what == (
        "could not empty bucket lovely-dogs-123456789012-us-east-1: 1 object version(s) "
        "refused, e.g. locked.jpg: AccessDenied locked"
    )
