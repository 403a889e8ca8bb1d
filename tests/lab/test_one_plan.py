"""`setup` plans once and runs what it printed: `--dry-run` (the display-only twin) lists
exactly the steps the executor then runs, phase by phase; the lanes record apart and merge
in lane order; steps hand typed outputs on; each command observes the lab once."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.commands import lab as lab_commands
from dogxray.core.errors import DogxrayError
from dogxray.lab import service
from dogxray.lab.models import Action, Output, Resource, SetupOptions, Step
from dogxray.lab.progress import SILENT
from dogxray.lab.run import PARALLEL_LANES, DisplayOnly, run_phases, run_steps, split

from .conftest import Lab, tiny_zip

FUNCTION = "dog-photo-function"


def _kind(step: dict[str, Any]) -> str:
    """The lab kind of a step printed as JSON (a policy's is its role's)."""
    resource = step["resource"]
    while "of" in resource:
        resource = resource["of"]
    return str(resource["kind"])


def _phases(steps: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The steps of each lane, then the rest, each in the order given."""
    laned = frozenset().union(*PARALLEL_LANES)
    lanes = [[st for st in steps if _kind(st) in kinds] for kinds in PARALLEL_LANES]
    return [*lanes, [st for st in steps if _kind(st) not in laned]]


def _record(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every step the lab's executor runs, as JSON, in the order run (lanes interleave)."""
    ran: list[dict[str, Any]] = []
    lock = threading.Lock()
    real = lab.executor.run_one

    def run_one(step: Step) -> object:
        with lock:
            ran.append(step.to_json())
        return real(step)

    monkeypatch.setattr(lab.executor, "run_one", run_one)
    return ran


def _dry_then_run(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> tuple[list[Any], list[Any]]:
    lab.calls.clear()
    dry = service.setup(lab.aws, SetupOptions(), dry_run=True, zip_provider=tiny_zip).plan
    assert dry is not None and lab.calls.mutating == []  # the dry run changes nothing
    ran = _record(lab, monkeypatch)
    service.setup(lab.aws, SetupOptions(), zip_provider=tiny_zip, executor=lab.executor)
    return dry, ran


def _assert_same_plan(dry: list[Any], ran: list[Any]) -> None:
    assert ran and _phases(ran) == _phases(dry)  # same steps, same order within each phase
    laned = frozenset().union(*PARALLEL_LANES)
    in_lane = [_kind(st) in laned for st in ran]
    assert in_lane == sorted(in_lane, reverse=True)  # the rest starts once the lanes are done


def test_dry_run_lists_what_setup_runs_on_a_fresh_lab(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    dry, ran = _dry_then_run(lab, monkeypatch)
    _assert_same_plan(dry, ran)
    assert [st["operation"] for st in _phases(ran)[0]] == ["CreateBucket", "PutBucketTagging"]
    assert _phases(ran)[2][0]["operation"] == "CreateFunction"


@pytest.mark.slow
def test_dry_run_lists_what_setup_runs_on_a_drifted_lab(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    service.setup(lab.aws, SetupOptions(), zip_provider=tiny_zip, executor=lab.executor)
    iam, lam = lab.client("iam"), lab.client("lambda")
    iam.delete_role_policy(
        RoleName="dog-photo-function-role-us-east-1", PolicyName="dog-photo-function-policy"
    )
    lam.update_function_configuration(FunctionName=FUNCTION, Timeout=3)
    lam.delete_function_url_config(FunctionName=FUNCTION)
    lab.client("logs").delete_log_group(logGroupName=f"/aws/lambda/{FUNCTION}")
    dry, ran = _dry_then_run(lab, monkeypatch)
    _assert_same_plan(dry, ran)
    assert {st["name"] for st in ran} == {
        "role-policy",
        "log-group",
        "function-configuration",
        "function-url",
    }
    again = service.setup(lab.aws, SetupOptions(), dry_run=True, zip_provider=tiny_zip)
    assert again.plan == []  # what ran was the whole repair


class _Lanes:
    """An executor whose bucket lane waits until the role lane has finished, so the role
    lane ends first; records which thread ran each step."""

    reporter = SILENT

    def __init__(self) -> None:
        self.role_done = threading.Event()
        self.threads: dict[str, int] = {}

    def run_one(self, step: Step) -> object:
        self.threads[step.message] = threading.get_ident()
        if step.kind == "bucket":
            assert self.role_done.wait(5)
        if step.message == "last role step":
            self.role_done.set()
        if step.produces is Output.function_arn:
            return {"FunctionArn": "arn:aws:lambda:us-east-1:1:function:f"}
        return None


def _step(kind: str, message: str, produces: Output | None = None) -> Step:
    return Step(
        name=kind,
        message=message,
        action=Action.create,
        resource=Resource(kind, "x"),
        operation=None,
        produces=produces,
    )


def test_lanes_run_apart_and_merge_in_lane_order() -> None:
    plan = [
        _step("bucket", "bucket step"),
        _step("role", "role step"),
        _step("role", "last role step"),
        _step("function", "create function", Output.function_arn),
    ]
    phases = split(plan)
    assert phases.steps() == plan
    fake = _Lanes()
    done = run_phases(fake, phases)
    assert done.steps == plan  # lane order, not finishing order
    assert fake.threads["bucket step"] != fake.threads["role step"]
    assert done.changed == ["bucket", "role", "function"]
    assert done.outputs.function_arn == "arn:aws:lambda:us-east-1:1:function:f"
    shown = run_phases(DisplayOnly(), phases)
    assert shown.steps == plan and shown.outputs.function_arn is None


def test_outputs_are_read_only_from_the_steps_that_declare_them() -> None:
    class Replies:
        reporter = SILENT

        def run_one(self, step: Step) -> object:
            return {"FunctionArn": "not-declared", "FunctionUrl": "https://u/"}

    done = run_steps(
        Replies(), [_step("function", "f"), _step("function-url", "u", Output.function_url)]
    )
    assert done.outputs.function_arn is None and done.outputs.function_url == "https://u/"
    tolerated = run_steps(DisplayOnly(), [_step("function-url", "u", Output.function_url)])
    assert tolerated.outputs.function_url is None  # a tolerated error replies None


def _observations(lab: Lab) -> int:
    """How many times the function was read before the first change (or at all)."""
    seen = lab.calls.seen
    first_change = next((i for i, c in enumerate(seen) if c in lab.calls.mutating), len(seen))
    return seen[:first_change].count(("lambda", "GetFunction"))


@pytest.fixture
def deployed(lab: Lab) -> Lab:
    service.setup(lab.aws, SetupOptions(), zip_provider=tiny_zip, executor=lab.executor)
    lab.calls.clear()
    return lab


def test_deploy_function_observes_once(deployed: Lab) -> None:
    service.deploy_function(
        deployed.aws, SetupOptions(), zip_provider=tiny_zip, executor=deployed.executor
    )
    assert _observations(deployed) == 1
    assert deployed.calls.seen.count(("lambda", "GetFunctionUrlConfig")) == 1


@pytest.mark.parametrize("command", ["break", "fix"])
def test_break_and_fix_bucket_observe_once(deployed: Lab, command: str) -> None:
    if command == "fix":
        service.break_bucket(deployed.aws, executor=deployed.executor)
        deployed.calls.clear()
        service.fix_bucket(deployed.aws, executor=deployed.executor)
    else:
        service.break_bucket(deployed.aws, executor=deployed.executor)
    assert _observations(deployed) == 1
    assert deployed.calls.seen.count(("lambda", "GetFunctionUrlConfig")) == 1
    assert deployed.calls.mutating == [("lambda", "UpdateFunctionConfiguration")]


def test_status_command_observes_once(deployed: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command's injection line comes from the same observation (no second read)."""
    monkeypatch.setattr(lab_commands, "connect", lambda ctx: deployed.aws)
    result = CliRunner().invoke(app, ["status", "--output", "json"])
    assert result.exit_code == 0, result.output
    assert deployed.calls.seen.count(("lambda", "GetFunction")) == 1
    assert deployed.calls.seen.count(("lambda", "GetPolicy")) == 1
    assert deployed.calls.mutating == []


def test_status_shows_each_conflict_on_its_own_row(lab: Lab) -> None:
    """A function and a role with the lab's names that dogxray did not make: each row
    names its own conflict (the function's is not repeated on the bucket's row)."""
    from .conftest import make_zip

    service.create_bucket(lab.aws, executor=lab.executor)
    role = lab.client("iam").create_role(
        RoleName="dog-photo-function-role-us-east-1", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    lab.client("lambda").create_function(
        FunctionName=FUNCTION,
        Runtime="python3.12",
        Role=role,
        Handler="lambda_function.lambda_handler",
        Code={"ZipFile": make_zip()},
    )
    lab.calls.clear()
    rows = {r.kind: r for r in service.status(lab.aws).resources}
    assert rows["bucket"].exists and rows["bucket"].drift == []
    assert rows["role"].drift == [
        "role dog-photo-function-role-us-east-1 exists but dogxray did not create it for "
        "lab 'dog-photo'"
    ]
    assert rows["function"].drift == [
        f"function {FUNCTION} exists but dogxray did not create it for lab 'dog-photo'"
    ]
    assert lab.calls.mutating == []
    with pytest.raises(DogxrayError, match="role dog-photo-function-role-us-east-1 exists"):
        service.setup(lab.aws, SetupOptions(), zip_provider=tiny_zip, executor=lab.executor)
    assert lab.calls.mutating == []  # refused before any change
