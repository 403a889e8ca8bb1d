"""Messages that name a dogxray command carry the global options of the run; usage errors
read like dogxray's own; global options are accepted after the command; `--since` limits
name the right service; "wait for indexing" only for recent requests; an endpoint that
runs no functions (a plain moto server) is said once."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from moto import mock_aws
from typer.main import get_command
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.cli import hoist_global_options
from dogxray.core import window
from dogxray.core.aws import Aws
from dogxray.core.config import Settings
from dogxray.core.errors import DogxrayError
from tests.lab.conftest import tiny_zip

runner = CliRunner()
BOX = set("─│╭╮╰╯┌┐└┘")
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)


def invoke(*args: str, **kwargs: Any) -> tuple[int, str, str]:
    """The CLI on a terminal wide enough that no hint wraps (wrapping has its own tests)."""
    kwargs["env"] = {"COLUMNS": "400", **kwargs.get("env", {})}
    result = runner.invoke(app, list(args), **kwargs)
    return result.exit_code, result.stdout, result.stderr


# --- item 17: one function for a hint's command line -------------------------------------


def test_a_hint_repeats_the_typed_global_options() -> None:
    assert Settings().command("test") == "dogxray test"
    assert Settings(lab="a").command("test --count 3") == "dogxray --lab a test --count 3"
    typed = Settings.from_options(
        lab="a",
        region="eu-west-1",
        profile="my prof",
        endpoint_url="http://127.0.0.1:4566",
        given=frozenset({"region", "profile", "endpoint_url"}),
    )
    assert typed.command("setup") == (
        "dogxray --lab a --profile 'my prof' --region eu-west-1 "
        "--endpoint-url http://127.0.0.1:4566 setup"
    )


def test_options_from_the_environment_are_not_repeated() -> None:
    env = {"AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}
    settings = Settings.from_options(lab="b", environ=env)
    assert (settings.region, settings.endpoint_url) == ("eu-west-1", "http://127.0.0.1:4566")
    assert settings.command("status") == "dogxray --lab b status"


@pytest.fixture
def quiet_moto_server(moto_server: str) -> Iterator[str]:
    werkzeug = logging.getLogger("werkzeug")
    werkzeug.disabled, before = True, werkzeug.disabled
    try:
        yield moto_server
    finally:
        werkzeug.disabled = before


@pytest.mark.slow
def test_hints_and_errors_carry_lab_region_and_endpoint(
    quiet_moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("dogxray.lab.service.build_zip", tiny_zip)
    url = quiet_moto_server
    options = ["--lab", "hints-a", "--region", "eu-west-1", "--endpoint-url", url]
    again = f"dogxray --lab hints-a --region eu-west-1 --endpoint-url {url}"

    code, _, err = invoke(*options, "test")
    assert code == 1
    assert err == (
        f"error: nothing deployed; run `{again} setup` first (lab hints-a in eu-west-1)\n"
        f"hint: `{again} setup` builds the lab (or pass the right --lab / --region)\n"
    )
    code, _, err = invoke(*options, "status")
    assert code == 0 and err == f"nothing deployed yet: run `{again} setup`\n"

    code, out, err = invoke(*options, "setup")
    try:
        assert code == 0, err
        assert err.splitlines()[-1] == f"next: `{again} test` to prove it works"
        function_url = out.splitlines()[-1].removeprefix("Function URL: ")

        # item 16: a plain moto server runs no function: said once, not per request
        code, out, err = invoke(*options, "test", "--count", "3")
        assert code == 1 and out == ""
        assert err == (
            f"error: the endpoint {url} does not run Lambda functions (its Function URL "
            f"{function_url} is an AWS address, not the endpoint's)\n"
            "hint: a plain moto server keeps the lab's resources but runs no code; run the "
            "lab on dogxray's emulator (`dogxray local`, or `dogxray demo --local`) or on AWS\n"
        )

        code, _, err = invoke(*options, "break-bucket")
        assert code == 0, err
        assert err.splitlines()[-1] == (
            f"call the Function URL (`{again} test`) to see Internal Server Error, then "
            f"`{again} traces --errors`; `{again} fix-bucket` restores it"
        )
        # item 20: the same options after the command name mean the same
        code, out, _ = invoke("status", *options)
        assert code == 0
        assert (
            "      BUCKET_NAME is aws-bucket, expected "
            f"lovely-dogs-hints-a-123456789012-eu-west-1 (broken: run `{again} fix-bucket`)"
        ) in out.splitlines()
    finally:
        assert invoke(*options, "cleanup", "--yes")[0] == 0


def test_demo_names_a_moto_server_as_an_endpoint_not_the_emulator(
    quiet_moto_server: str,
) -> None:
    aws = Aws(Settings.from_options(endpoint_url=quiet_moto_server))
    assert aws.backend == f"the endpoint {quiet_moto_server}"


# --- item 20: global options after the command, usage errors ----------------------------

GROUP = get_command(app)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["status", "--lab", "b"], ["--lab", "b", "status"]),
        (["status", "--lab=b", "--debug"], ["--lab=b", "--debug", "status"]),
        (
            ["--region", "eu-west-1", "traces", "--since", "1h", "--lab", "b", "--errors"],
            ["--region", "eu-west-1", "--lab", "b", "traces", "--since", "1h", "--errors"],
        ),
        # an option's value is never taken for an option
        (["logs", "--request-id", "--lab", "x"], ["logs", "--request-id", "--lab", "x"]),
        # nothing after `--` moves
        (["trace", "--", "--lab"], ["trace", "--", "--lab"]),
        # unknown commands and bare `--help` are left alone
        (["nosuch", "--lab", "b"], ["nosuch", "--lab", "b"]),
        (["--help"], ["--help"]),
    ],
)
def test_global_options_after_the_command_move_before_it(
    argv: list[str], expected: list[str]
) -> None:
    assert hoist_global_options(GROUP, argv) == expected


@pytest.mark.slow
def test_status_with_lab_after_the_command_acts_on_that_lab() -> None:
    with mock_aws():
        code, out, _ = invoke("status", "--lab", "b", "--region", "us-east-1")
    assert code == 0
    assert out.splitlines()[0] == "lab b in us-east-1"


@pytest.mark.parametrize(
    ("args", "lines"),
    [
        (
            ["load", "-n", "abc"],
            [
                "error: invalid value for '--requests' / '-n': Input should be a valid "
                "integer, unable to parse string as an integer",
                "hint: see `dogxray load --help`",
            ],
        ),
        (
            ["setup", "--policy", "admin"],
            [
                "error: invalid value for '--policy': 'admin' is not one of "
                "'least-privilege', 'console'",
                "hint: see `dogxray setup --help`",
            ],
        ),
        (
            ["trace"],
            ["error: missing argument 'trace_id'", "hint: see `dogxray trace --help`"],
        ),
        (
            ["status", "--bogus"],
            ["error: no such option: --bogus", "hint: see `dogxray status --help`"],
        ),
        (["nosuch"], ["error: no such command 'nosuch'", "hint: see `dogxray --help`"]),
    ],
)
def test_click_usage_errors_read_like_dogxray_errors(args: list[str], lines: list[str]) -> None:
    code, out, err = invoke(*args)
    assert code == 2
    assert out == ""
    assert err.splitlines() == lines
    assert not BOX & set(err) and "Usage:" not in err


# --- item 18: how far back each service keeps data --------------------------------------


def test_logs_reach_further_back_than_x_ray() -> None:
    start, end = window.parse_since("31d", NOW, limit=None)
    assert end - start == timedelta(days=31)
    with mock_aws():
        code, _, err = invoke("--region", "us-east-1", "logs", "--since", "31d")
    assert code == 0, err
    assert err.startswith("note: nothing deployed")


def test_each_limit_names_its_service() -> None:
    with pytest.raises(DogxrayError) as xray:
        window.parse_since("31d", NOW)
    assert (xray.value.what, xray.value.hint) == (
        "--since '31d' reaches further back than X-Ray keeps traces",
        "X-Ray keeps traces for 30 days; use at most 30d",
    )
    start, _ = window.parse_since("400d", NOW, limit=window.CLOUDWATCH_METRICS)
    assert start == NOW - timedelta(days=400)
    code, _, err = invoke("metrics", "--since", "456d")
    assert code == 2
    assert err == (
        "error: --since '456d' reaches further back than CloudWatch keeps metrics\n"
        "hint: CloudWatch keeps metrics for 455 days (15 months); use at most 455d\n"
    )


def test_an_absurd_window_is_refused_or_starts_in_1970() -> None:
    with pytest.raises(DogxrayError, match="X-Ray keeps traces"):
        window.parse_since("99999999999d", NOW)
    start, _ = window.parse_since("99999999999d", NOW, limit=None)
    assert start == datetime(1970, 1, 1, tzinfo=timezone.utc)


# --- item 16: "wait for indexing" only for a recent request ------------------------------


def _trace_id(at: datetime) -> str:
    return f"1-{int(at.timestamp()):08x}-{'0' * 24}"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("age", "hint"),
    [
        (
            timedelta(seconds=5),
            "hint: X-Ray keeps traces for 30 days and needs ~30 s to index a new one; check "
            "--region/--profile, or list recent traces with `dogxray --lab c traces`",
        ),
        (
            timedelta(minutes=20),
            "hint: X-Ray keeps traces for 30 days; check --region/--profile, or list recent "
            "traces with `dogxray --lab c traces`",
        ),
    ],
)
def test_trace_not_found_mentions_indexing_only_when_recent(age: timedelta, hint: str) -> None:
    trace_id = _trace_id(datetime.now(timezone.utc) - age)
    with mock_aws():
        code, _, err = invoke("--lab", "c", "trace", trace_id)
    assert code == 1
    assert err.splitlines() == [f"error: trace {trace_id} not found (X-Ray in us-east-1)", hint]


@pytest.mark.slow
def test_logs_of_an_old_trace_do_not_say_wait_a_few_seconds() -> None:
    from dogxray.monitor import logs
    from dogxray.traces.service import TraceDetail

    now = datetime.now(timezone.utc)
    node = {"origin": "AWS::Lambda", "aws": {"request_id": "r-1"}, "children": []}
    with mock_aws():
        aws = Aws(Settings.from_options(region="us-east-1"))
        aws.client("logs").create_log_group(logGroupName=aws.settings.log_group_name)
        old_id = _trace_id(now - timedelta(hours=2))
        old = logs.trace_logs(aws, aws.settings, TraceDetail(old_id, 0.0, None, [node]))
        new_id = _trace_id(now)
        new = logs.trace_logs(aws, aws.settings, TraceDetail(new_id, 0.0, None, [node]))
    assert old.note == (
        "no log lines of request r-1 in /aws/lambda/dog-photo-function "
        "(they may be past the log group's retention)"
    )
    assert new.note == (
        "no log lines of request r-1 yet (CloudWatch needs a few seconds); "
        f"re-run, or `dogxray logs --trace {new_id}`"
    )


@pytest.mark.parametrize(
    ("args", "env"),
    [(["--profile", "nope", "status"], {}), (["status"], {"AWS_PROFILE": "nope"})],
)
def test_a_missing_profile_is_one_message_before_any_call(
    tmp_path: Any, args: list[str], env: dict[str, str]
) -> None:
    """The session reads the profile when the command connects, typed or from the
    environment: one usage error (exit 2), not a botocore error on the first call."""
    config = tmp_path / "config"
    config.write_text("[profile other]\nregion = eu-west-1\n")
    env = {**env, "AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(config)}
    code, out, err = invoke(*args, env=env)
    assert (code, out) == (2, "")
    assert err == (
        "error: AWS profile 'nope' not found\n"
        "hint: check `aws configure list-profiles`, or drop --profile / AWS_PROFILE\n"
    )
