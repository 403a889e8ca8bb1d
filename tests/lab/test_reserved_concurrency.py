"""`configure --reserved-concurrency N` / `--no-reserved-concurrency`: reserved and
released through Lambda's concurrency API, recorded with the lab's settings, kept by
`setup`, shown by `status`, a change made elsewhere reported as drift and in the dry
run; bad input refused before any call."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.lab import service
from dogxray.lab.models import SetupOptions

from .conftest import Lab, tiny_zip

FUNCTION = "dog-photo-function"
DEAD_ENDPOINT = ["--endpoint-url", "http://127.0.0.1:9"]


def _setup(lab: Lab, **options: object) -> dict:
    return service.setup(
        lab.aws, SetupOptions(**options), zip_provider=tiny_zip, executor=lab.executor
    ).to_json()


def _configure(lab: Lab, **options: object) -> None:
    service.configure(lab.aws, SetupOptions(**options), executor=lab.executor)


def _reserved(lab: Lab) -> int | None:
    found = lab.client("lambda").get_function_concurrency(FunctionName=FUNCTION)
    return found.get("ReservedConcurrentExecutions")


def _settings(lab: Lab) -> str:
    return lab.client("lambda").get_function(FunctionName=FUNCTION)["Tags"]["dogxray:settings"]


def test_reserved_recorded_kept_and_released(lab: Lab) -> None:
    _setup(lab)
    assert _reserved(lab) is None and _settings(lab).endswith(" reserved=none")
    lab.calls.clear()
    _configure(lab, reserved=5)
    assert _reserved(lab) == 5
    assert ("lambda", "PutFunctionConcurrency") in lab.calls.mutating
    assert _settings(lab).endswith(" reserved=5")
    assert service.status(lab.aws).reserved_concurrency == 5
    lab.calls.clear()
    _setup(lab)  # kept: nothing to do
    assert lab.calls.mutating == []
    _configure(lab, timeout=20)  # another setting: the reservation stays
    assert _reserved(lab) == 5
    _configure(lab, unreserved=True)
    assert _reserved(lab) is None and _settings(lab).endswith(" reserved=none")
    assert service.status(lab.aws).reserved_concurrency is None


def test_a_change_made_elsewhere_is_drift_and_setup_restores_it(lab: Lab) -> None:
    _setup(lab)
    _configure(lab, reserved=5)
    lab.client("lambda").put_function_concurrency(
        FunctionName=FUNCTION, ReservedConcurrentExecutions=2
    )
    [function] = [r for r in service.status(lab.aws).resources if r.kind == "function"]
    assert "reserved concurrency is 2, expected 5" in function.drift
    plan = service.setup(lab.aws, SetupOptions(), dry_run=True, zip_provider=tiny_zip).plan
    assert plan is not None
    [step] = [s for s in plan if s["operation"] == "PutFunctionConcurrency"]
    assert step["params"]["ReservedConcurrentExecutions"] == 5
    _setup(lab)
    assert _reserved(lab) == 5


def test_setup_keeps_a_reservation_made_before_dogxray_recorded_it(lab: Lab) -> None:
    """A lab from before this setting: its tag has no `reserved`, so what is deployed is
    kept rather than removed."""
    _setup(lab)
    lam = lab.client("lambda")
    lam.put_function_concurrency(FunctionName=FUNCTION, ReservedConcurrentExecutions=3)
    arn = lam.get_function(FunctionName=FUNCTION)["Configuration"]["FunctionArn"]
    old = _settings(lab).removesuffix(" reserved=none")
    lam.tag_resource(Resource=arn, Tags={"dogxray:settings": old})
    _setup(lab)
    assert _reserved(lab) == 3 and _settings(lab).endswith(" reserved=3")


def test_zero_stops_the_function_and_says_so(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dogxray.lab.service.build_zip", tiny_zip)
    runner = CliRunner()
    assert runner.invoke(app, ["setup"]).exit_code == 0
    result = runner.invoke(app, ["configure", "--reserved-concurrency", "0"])
    assert result.exit_code == 0, result.output
    assert (
        "reserve 0 concurrent executions for dog-photo-function (0: every invocation is "
        "throttled)" in result.stderr
    )
    assert result.stdout.splitlines()[:2] == [
        "function configured",
        "reserved concurrency 0: the function is stopped, every invocation is throttled",
    ]
    assert "hint" not in result.stdout and "no-reserved-concurrency" in result.stderr
    status = runner.invoke(app, ["status"]).stdout
    assert (
        "  reserved concurrency 0 (the function is stopped: every invocation is "
        "throttled)\n" in status
    )
    assert _reserved(lab) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["configure", "--reserved-concurrency", "-1"], "error: reserved concurrency -1 is "),
        (
            ["configure", "--reserved-concurrency", "3", "--no-reserved-concurrency"],
            "error: --reserved-concurrency and --no-reserved-concurrency contradict",
        ),
        (["configure", "--reserved-concurrency", "many"], ""),
    ],
)
def test_bad_reserved_concurrency_exits_2_before_any_call(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, [*DEAD_ENDPOINT, *args])
    assert result.exit_code == 2, result.output
    assert result.stdout == "" and "Traceback" not in result.output
    assert result.stderr.startswith(message)
