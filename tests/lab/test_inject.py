"""`dogxray inject` with moto: the environment round trip, `status` showing it as such
(not drift), `setup` keeping it, `--off` ending it; bad input refused before any call."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from dogxray.core import config
from dogxray.packaging.build import PAYLOAD_DIR

from .conftest import Lab, tiny_zip
from .test_cli import DEAD_ENDPOINT, invoke

FUNCTION = "dog-photo-function"


@pytest.fixture
def runner(moto: None, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr("dogxray.lab.service.build_zip", tiny_zip)
    return CliRunner()


def function_env(runner: CliRunner) -> dict[str, str]:
    import boto3

    cfg = boto3.client("lambda", region_name="us-east-1").get_function_configuration(
        FunctionName=FUNCTION
    )
    return dict(cfg["Environment"]["Variables"])


@pytest.mark.slow
def test_inject_round_trip(runner: CliRunner) -> None:
    assert invoke(runner, "setup")[0] == 0
    code, out, err = invoke(runner, "inject", "--latency", "5s", "--failure-rate", "0.3")
    assert code == 0, err
    assert out == (
        "dog-photo-function now injects: +5000 ms on 30% of requests, 30% of requests fail "
        "(before call_dog_api)\n"
    )
    env = function_env(runner)
    assert {k: v for k, v in env.items() if k.startswith("DOGXRAY_INJECT_")} == {
        "DOGXRAY_INJECT_LATENCY_MS": "5000",
        "DOGXRAY_INJECT_LATENCY_RATE": "0.3",
        "DOGXRAY_INJECT_FAILURE_RATE": "0.3",
        "DOGXRAY_INJECT_AT": "call_dog_api",
    }
    code, out, _ = invoke(runner, "status")
    assert code == 0
    assert out.splitlines()[-1] == (
        "injection: +5000 ms on 30% of requests, 30% of requests fail (before call_dog_api); "
        "`dogxray inject --off` removes it"
    )
    doc = json.loads(invoke(runner, "status", "--output", "json")[1])
    assert all(not r["drift"] for r in doc["resources"])  # a state, not drift
    assert doc["injection"] == {
        "latency_ms": 5000,
        "latency_rate": 0.3,
        "failure_rate": 0.3,
        "at": "call_dog_api",
        "seed": None,
    }
    again = json.loads(invoke(runner, "setup", "--output", "json")[1])
    assert again["changed"] == []  # setup keeps the injection
    assert function_env(runner)["DOGXRAY_INJECT_LATENCY_MS"] == "5000"
    code, out, _ = invoke(runner, "inject", "--off")
    assert (code, out) == (0, "injection removed from dog-photo-function\n")
    assert not [k for k in function_env(runner) if k.startswith("DOGXRAY_INJECT_")]
    assert function_env(runner)["BUCKET_NAME"] == "lovely-dogs-123456789012-us-east-1"
    assert json.loads(invoke(runner, "status", "--output", "json")[1])["injection"] is None
    assert invoke(runner, "inject", "--off")[1] == "injection already off on dog-photo-function\n"


@pytest.mark.slow
def test_latency_alone_hits_every_request_and_can_move(runner: CliRunner) -> None:
    invoke(runner, "setup")
    code, out, _ = invoke(runner, "inject", "--latency", "800ms", "--at", "save_dog_to_s3")
    assert code == 0
    assert out == (
        "dog-photo-function now injects: +800 ms on 100% of requests (before save_dog_to_s3)\n"
    )
    env = function_env(runner)
    assert env["DOGXRAY_INJECT_LATENCY_RATE"] == "1" and env["DOGXRAY_INJECT_FAILURE_RATE"] == "0"


@pytest.mark.slow
@pytest.mark.parametrize("latency", ["20s", "14999ms", "13001ms"])
def test_latency_without_room_in_the_function_timeout_is_refused(
    runner: CliRunner, latency: str
) -> None:
    """With the lab's 15 s timeout, 2 s stay for the request's own work: 13 s at most."""
    invoke(runner, "setup")
    code, _, err = invoke(runner, "inject", "--latency", latency)
    assert code == 2
    ms = int(latency[:-2]) if latency.endswith("ms") else int(latency[:-1]) * 1000
    seconds = -(-(ms + 2000) // 1000)
    assert err.splitlines() == [
        f"error: an injected latency of {ms} ms leaves no room in the function's 15 s "
        "timeout: at most 13000 ms (2 s are kept for the request's own work)",
        f"hint: inject at most 13000 ms, or raise the timeout first: "
        f"`dogxray configure --timeout {seconds}`",
    ]
    assert not [k for k in function_env(runner) if k.startswith("DOGXRAY_INJECT_")]


@pytest.mark.slow
def test_the_largest_latency_that_leaves_room_is_accepted(runner: CliRunner) -> None:
    invoke(runner, "setup")
    code, _, err = invoke(runner, "inject", "--latency", "13s")
    assert code == 0, err
    assert function_env(runner)["DOGXRAY_INJECT_LATENCY_MS"] == "13000"


@pytest.mark.slow
def test_configure_env_follows_injects_rules(runner: CliRunner) -> None:
    """`configure --env DOGXRAY_INJECT_*` is checked as `inject` is: range, numbers,
    the function's timeout; nothing changes when refused."""
    invoke(runner, "setup")
    cases = [
        (
            "DOGXRAY_INJECT_LATENCY_MS=99999999",
            "error: DOGXRAY_INJECT_LATENCY_MS 99999999 ms is outside 0-900000 ms",
        ),
        (
            "DOGXRAY_INJECT_LATENCY_MS=14000",
            "error: an injected latency of 14000 ms leaves no room in the function's 15 s "
            "timeout: at most 13000 ms (2 s are kept for the request's own work)",
        ),
        (
            "DOGXRAY_INJECT_LATENCY_MS=soon",
            "error: DOGXRAY_INJECT_LATENCY_MS='soon' is not a whole number",
        ),
        (
            "DOGXRAY_INJECT_FAILURE_RATE=2",
            "error: DOGXRAY_INJECT_FAILURE_RATE 2 is outside 0-1",
        ),
        (
            "DOGXRAY_INJECT_AT=nowhere",
            "error: DOGXRAY_INJECT_AT 'nowhere' is not a step of the lab",
        ),
    ]
    for pair, message in cases:
        code, _, err = invoke(runner, "configure", "--env", pair)
        assert (code, err.splitlines()[0]) == (2, message), pair
        assert err.splitlines()[1].startswith("hint: ")
    assert not [k for k in function_env(runner) if k.startswith("DOGXRAY_INJECT_")]
    code, _, err = invoke(runner, "configure", "--env", "DOGXRAY_INJECT_LATENCY_MS=3000")
    assert code == 0, err
    assert json.loads(invoke(runner, "status", "--output", "json")[1])["injection"] == {
        "latency_ms": 3000,
        "latency_rate": 1.0,
        "failure_rate": 0.0,
        "at": "call_dog_api",
        "seed": None,
    }


@pytest.mark.slow
def test_a_shorter_timeout_must_leave_room_for_the_injection(runner: CliRunner) -> None:
    invoke(runner, "setup")
    assert invoke(runner, "inject", "--latency", "5s")[0] == 0
    code, _, err = invoke(runner, "configure", "--timeout", "6")
    assert code == 2
    assert err.splitlines()[0] == (
        "error: an injected latency of 5000 ms leaves no room in the function's 6 s "
        "timeout: at most 4000 ms (2 s are kept for the request's own work)"
    )
    assert invoke(runner, "configure", "--timeout", "7")[0] == 0


def test_before_setup_says_so(runner: CliRunner) -> None:
    code, _, err = invoke(runner, "inject", "--failure-rate", "0.5")
    assert code == 1 and err.startswith("error: nothing deployed")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "error: nothing to inject"),
        (["--latency", "0s"], "error: nothing to inject: --latency 0s adds no latency"),
        (["--latency", "16m"], "error: --latency 16m is above 900 s, Lambda's longest timeout"),
        (
            ["--latency", "1s", "--rate", "0"],
            "error: --rate 0 delays no request: the 1000 ms latency would do nothing",
        ),
        (
            ["--failure-rate", "0.3", "--rate", "0.5"],
            "error: --rate is the share of requests --latency delays, and no --latency is given",
        ),
        (["--off", "--latency", "1s"], "error: --off removes the injection; it takes no --latency"),
        (
            ["--off", "--failure-rate", "0", "--at", "save_dog_to_s3"],
            "error: --off removes the injection; it takes no --failure-rate or --at",
        ),
        (["--failure-rate", "1.5"], "error: --failure-rate 1.5 is outside 0-1"),
        (["--latency", "1s", "--rate", "-0.1"], "error: --rate -0.1 is outside 0-1"),
        (["--latency", "soon"], "error: invalid --latency 'soon'"),
        (["--latency", "1s", "--at", "nowhere"], "error: --at 'nowhere' is not a step of the lab"),
    ],
)
def test_bad_input_exits_2_before_any_call(args: list[str], message: str) -> None:
    from dogxray.app import app

    result = CliRunner().invoke(app, [*DEAD_ENDPOINT, "inject", *args])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines()[0] == message


def test_the_payload_reads_the_same_names() -> None:
    """config.py is the one place of names; the payload (which never imports dogxray)
    spells them again, and they must agree."""
    source = (PAYLOAD_DIR / "injection.py").read_text()
    for name in config.INJECT_ENV:
        assert f'"{name}"' in source
    assert 'STEPS = ("call_dog_api", "save_dog_to_s3")' in source
    assert config.INJECT_STEPS == ("call_dog_api", "save_dog_to_s3")


@pytest.mark.slow
def test_a_broken_bucket_stays_broken_through_other_stage_commands(runner: CliRunner) -> None:
    """`break-bucket` is the lab's stage 5: an unrelated `configure --env` or `inject`
    must not quietly undo it; `fix-bucket` (and `setup`, which repairs drift) restore."""
    invoke(runner, "setup")
    assert invoke(runner, "break-bucket")[0] == 0
    assert invoke(runner, "configure", "--env", "X=1")[0] == 0
    assert invoke(runner, "inject", "--failure-rate", "0.1")[0] == 0
    assert function_env(runner)["BUCKET_NAME"] == "aws-bucket"
    assert invoke(runner, "fix-bucket")[0] == 0
    assert function_env(runner)["BUCKET_NAME"] == "lovely-dogs-123456789012-us-east-1"
    assert invoke(runner, "break-bucket")[0] == 0
    assert invoke(runner, "setup")[0] == 0
    assert function_env(runner)["BUCKET_NAME"] == "lovely-dogs-123456789012-us-east-1"


def test_inject_reads_the_function_once(lab: Lab) -> None:
    """One observation serves the deployed check and the configuration stage."""
    from dogxray.lab import service
    from dogxray.lab.injection import Injection
    from dogxray.lab.models import SetupOptions
    from dogxray.triage import inject

    service.setup(lab.aws, SetupOptions(), zip_provider=tiny_zip, executor=lab.executor)
    lab.calls.clear()
    done = inject.inject(lab.aws, Injection(latency_ms=1000))
    assert done.to_json() == {
        "function": FUNCTION,
        "injection": Injection(latency_ms=1000).to_json(),
        "changed": True,
    }
    ops = [op for service_name, op in lab.calls.seen if service_name == "lambda"]
    observed = ops[: ops.index("UpdateFunctionConfiguration")]  # then: waiting for it
    assert observed == ["GetFunction", "GetFunctionUrlConfig", "GetPolicy"], ops
