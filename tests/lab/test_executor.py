"""The executor's waits and retries with botocore's Stubber (moto cannot make a role
propagate slowly, a function stay Pending, or AWS throttle)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.stub import Stubber

from dogxray.core.config import Settings
from dogxray.core.errors import DogxrayError
from dogxray.lab.executor import Executor, Timing
from dogxray.lab.models import Action, Resource, Step, Wait

from .conftest import shared_session

ROLE_ARN = "arn:aws:iam::123456789012:role/dog-photo-function-role-us-east-1"
ROLE_NAME = ROLE_ARN.rsplit("/", 1)[-1]
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
PROPAGATION = "The role defined for the function cannot be assumed by Lambda."
XRAY = "The provided execution role does not have permissions to call PutTraceSegments on XRAY"
CONFLICT = (
    "The operation cannot be performed at this time. An update is in progress for resource: x"
)


class StubAws:
    """Just enough of `Aws` for the executor: stubbed clients."""

    def __init__(self) -> None:
        self.settings = Settings()
        self.lam = shared_session().create_client("lambda", region_name="us-east-1")
        self.stub = Stubber(self.lam)
        self.iam = shared_session().create_client("iam", region_name="us-east-1")
        self.iam_stub = Stubber(self.iam)

    def client(self, service: str) -> Any:
        assert service in ("lambda", "iam")
        return self.lam if service == "lambda" else self.iam

    def role_created(self, minutes_ago: float) -> None:
        """GetRole (the executor asks once, for an X-Ray permission error) answers a role
        created `minutes_ago` before NOW."""
        self.iam_stub.add_response(
            "get_role",
            {
                "Role": {
                    "Path": "/",
                    "RoleName": ROLE_NAME,
                    "RoleId": "AROAEXAMPLEEXAMPLE1",
                    "Arn": ROLE_ARN,
                    "CreateDate": NOW - timedelta(minutes=minutes_ago),
                }
            },
            {"RoleName": ROLE_NAME},
        )


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def rig() -> Iterator[tuple[StubAws, Executor, Clock, list[str]]]:
    aws, clock, shown = StubAws(), Clock(), []

    class Shown:
        def progress(self, text: str) -> None:
            shown.append(f"progress: {text}")

        @contextmanager
        def spinner(self, text: str) -> Iterator[Callable[[str], None]]:
            shown.append(f"start: {text}")
            try:
                yield shown.append
            finally:
                shown.append("stop")

    executor = Executor(
        aws,  # type: ignore[arg-type]
        timing=Timing(waiter_delay=0),
        sleep=clock.sleep,
        clock=clock,
        reporter=Shown(),
        now=lambda: NOW,
    )
    with aws.stub, aws.iam_stub:
        yield aws, executor, clock, shown
        aws.stub.assert_no_pending_responses()
        aws.iam_stub.assert_no_pending_responses()


def create_step() -> Step:
    return Step(
        name="function",
        message="create function f",
        action=Action.create,
        resource=Resource("function", "f"),
        operation="CreateFunction",
        params={"FunctionName": "f", "Role": ROLE_ARN, "Code": {"ZipFile": b"zip"}},
        wait=Wait.function_active,
        function_name="f",
    )


def update_step() -> Step:
    return Step(
        name="function-configuration",
        message="update f",
        action=Action.update,
        resource=Resource("function", "f"),
        operation="UpdateFunctionConfiguration",
        params={"FunctionName": "f", "Timeout": 15},
        wait=Wait.function_updated,
        function_name="f",
    )


def state(**cfg: str) -> dict[str, Any]:
    return {"Configuration": {"FunctionName": "f", **cfg}}


@pytest.mark.parametrize("message", [PROPAGATION, XRAY])
def test_role_propagation_retried_visibly_then_succeeds(rig, message: str) -> None:  # type: ignore[no-untyped-def]
    aws, executor, clock, shown = rig
    if message == XRAY:
        aws.role_created(minutes_ago=1)  # a new role: the error is propagation
    for _ in range(3):
        aws.stub.add_client_error("create_function", "InvalidParameterValueException", message)
    aws.stub.add_response("create_function", {"FunctionName": "f", "State": "Pending"})
    aws.stub.add_response("get_function", state(State="Pending"))
    aws.stub.add_response("get_function", state(State="Active"))
    result = executor.run_one(create_step())
    assert result["FunctionName"] == "f"
    assert clock.sleeps[:3] == [5.0, 5.0, 5.0]
    assert shown[0] == "start: waiting for the new IAM role to reach Lambda"
    assert shown[1:4] == [
        f"waiting for the new IAM role to reach Lambda ({s} s; retrying every 5 s, up to 3 min)"
        for s in (0, 5, 10)
    ]
    assert shown[-1] == "stop"


def test_missing_xray_permission_on_an_old_role_fails_at_once(rig) -> None:  # type: ignore[no-untyped-def]
    aws, executor, clock, _shown = rig
    aws.role_created(minutes_ago=60)
    aws.stub.add_client_error("create_function", "InvalidParameterValueException", XRAY)
    with pytest.raises(DogxrayError) as info:
        executor.run_one(create_step())
    assert info.value.what == (
        "the function's role lacks xray:PutTraceSegments, which active tracing needs (the "
        f"role is older than 5 min, so this is not IAM propagation): {XRAY}"
    )
    assert info.value.hint == (
        "run `dogxray setup` or `dogxray create-role`: they restore the role's policy "
        "(least-privilege: xray:PutTraceSegments and xray:PutTelemetryRecords; console: "
        "AWSXRayDaemonWriteAccess)"
    )
    assert clock.sleeps == []


def test_old_role_changed_by_this_run_is_still_waited_for(rig) -> None:  # type: ignore[no-untyped-def]
    """setup just repaired the policy of an old role: the error is propagation again."""
    aws, executor, clock, _shown = rig
    executor.role_changed_at = clock()
    aws.stub.add_client_error("create_function", "InvalidParameterValueException", XRAY)
    aws.stub.add_response("create_function", {"FunctionName": "f", "State": "Pending"})
    aws.stub.add_response("get_function", state(State="Active"))
    assert executor.run_one(create_step())["FunctionName"] == "f"
    assert clock.sleeps[:1] == [5.0]


def test_role_propagation_gives_up_after_the_limit(rig) -> None:  # type: ignore[no-untyped-def]
    aws, executor, clock, shown = rig
    for _ in range(37):
        aws.stub.add_client_error("create_function", "InvalidParameterValueException", PROPAGATION)
    with pytest.raises(DogxrayError) as info:
        executor.run_one(create_step())
    assert info.value.what == f"Lambda still cannot use the role after 180 s: {PROPAGATION}"
    assert "re-run `dogxray setup`" in str(info.value.hint)
    assert sum(clock.sleeps) == 180.0 and shown[-1] == "stop"


def test_other_invalid_parameter_errors_are_not_retried(rig) -> None:  # type: ignore[no-untyped-def]
    aws, executor, clock, _ = rig
    aws.stub.add_client_error("create_function", "InvalidParameterValueException", "bad zip")
    with pytest.raises(Exception, match="bad zip"):
        executor.run_one(create_step())
    assert clock.sleeps == []


def test_in_progress_update_is_waited_for(rig) -> None:  # type: ignore[no-untyped-def]
    aws, executor, _, _ = rig
    aws.stub.add_response("update_function_configuration", {"FunctionName": "f"})
    aws.stub.add_response("get_function", state(State="Active", LastUpdateStatus="InProgress"))
    aws.stub.add_response("get_function", state(State="Active", LastUpdateStatus="InProgress"))
    aws.stub.add_response("get_function", state(State="Active", LastUpdateStatus="Successful"))
    executor.run_one(update_step())  # the stubber asserts all three polls happened


def test_failed_state_is_one_clear_error(rig) -> None:  # type: ignore[no-untyped-def]
    aws, executor, _, _ = rig
    aws.stub.add_response("create_function", {"FunctionName": "f"})
    aws.stub.add_response("get_function", state(State="Failed", StateReason="zip is corrupt"))
    with pytest.raises(DogxrayError) as info:
        executor.run_one(create_step())
    assert info.value.what == "function f did not become ready: zip is corrupt"


def test_resource_conflict_is_retried(rig) -> None:  # type: ignore[no-untyped-def]
    aws, executor, clock, _ = rig
    for _ in range(2):
        aws.stub.add_client_error(
            "update_function_configuration",
            "ResourceConflictException",
            CONFLICT,
            http_status_code=409,
        )
    aws.stub.add_response("update_function_configuration", {"FunctionName": "f"})
    aws.stub.add_response("get_function", state(State="Active", LastUpdateStatus="Successful"))
    executor.run_one(update_step())
    assert clock.sleeps == [2.0, 2.0]


def test_conflict_that_is_not_an_update_in_progress_is_not_retried(rig) -> None:  # type: ignore[no-untyped-def]
    aws, executor, clock, _ = rig
    aws.stub.add_client_error(
        "create_function",
        "ResourceConflictException",
        "Function already exist: f",
        http_status_code=409,
    )
    with pytest.raises(Exception, match="already exist"):
        executor.run_one(create_step())
    assert clock.sleeps == []


def test_tolerated_codes_mean_already_done(rig) -> None:  # type: ignore[no-untyped-def]
    aws, executor, _, _ = rig
    aws.stub.add_client_error("delete_function", "ResourceNotFoundException", "gone", 404)
    step = Step(
        name="function",
        message="delete function f",
        action=Action.delete,
        resource=Resource("function", "f"),
        operation="DeleteFunction",
        params={"FunctionName": "f"},
        tolerate=("ResourceNotFoundException",),
    )
    assert executor.run_one(step) is None


def test_botocore_without_invoked_via_function_url_is_explained(rig) -> None:  # type: ignore[no-untyped-def]
    """A botocore from before Oct 2025: its AddPermission has no InvokedViaFunctionUrl, so
    its own parameter validation refuses the step (this client's model is trimmed; it is
    not stubbed: validation fails before any request)."""
    aws, executor, _, _ = rig
    aws.lam = shared_session().create_client("lambda", region_name="us-east-1")
    shape = aws.lam.meta.service_model.operation_model("AddPermission").input_shape
    del shape.members["InvokedViaFunctionUrl"]
    step = Step(
        name="url-permissions",
        message="allow invoke",
        action=Action.create,
        resource=Resource("permission", "p", of=Resource("function-url", "f")),
        operation="AddPermission",
        params={
            "FunctionName": "f",
            "StatementId": "p",
            "Action": "lambda:InvokeFunction",
            "Principal": "*",
            "InvokedViaFunctionUrl": True,
        },
    )
    with pytest.raises(DogxrayError) as info:
        executor.run_one(step)
    assert info.value.hint == "upgrade it: pip install -U boto3 botocore"


PENDING = (
    "The operation cannot be performed at this time. The function is currently in the "
    "following state: Pending"
)


def test_conflict_on_a_url_step_is_retried(rig) -> None:  # type: ignore[no-untyped-def]
    """A re-run after Ctrl-C may find the function still Pending: the Function URL and
    permission steps (which have no waiter) must wait it out like the updates do."""
    aws, executor, clock, _ = rig
    aws.stub.add_client_error(
        "create_function_url_config", "ResourceConflictException", PENDING, http_status_code=409
    )
    aws.stub.add_response(
        "create_function_url_config",
        {
            "FunctionUrl": "https://abcdef.lambda-url.us-east-1.on.aws/",
            "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:f",
            "AuthType": "NONE",
            "CreationTime": "2026-01-01T00:00:00Z",
        },
    )
    step = Step(
        name="function-url",
        message="create the Function URL of f",
        action=Action.create,
        resource=Resource("function-url", "f"),
        operation="CreateFunctionUrlConfig",
        params={"FunctionName": "f", "AuthType": "NONE"},
    )
    assert executor.run_one(step)["AuthType"] == "NONE"
    assert clock.sleeps == [2.0]
