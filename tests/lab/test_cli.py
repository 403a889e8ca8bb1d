"""The lab commands through typer's CliRunner: bad input (exit 2 before any AWS call),
commands before setup (exit 1), and the happy path with exact output."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from dogxray.app import app

from .conftest import tiny_zip

BUCKET = "lovely-dogs-123456789012-us-east-1"
# Nothing listens here: a bad-input test that reached AWS would fail with exit 1.
DEAD_ENDPOINT = ["--endpoint-url", "http://127.0.0.1:9"]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def invoke(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create-bucket", "--bucket", "Bad_Name"], "error: invalid bucket name 'Bad_Name'"),
        (
            ["setup", "--bucket", "192.168.1.1"],
            "error: invalid bucket name '192.168.1.1': it must not look like an IP address",
        ),
        (
            ["setup", "--bucket", "ab"],
            "error: invalid bucket name 'ab': it must be 3-63 characters long",
        ),
        (["setup", "--bucket", "xn--dogs"], "error: invalid bucket name 'xn--dogs'"),
        (["setup", "--bucket", "dogs-s3alias"], "error: invalid bucket name 'dogs-s3alias'"),
        (["setup", "--bucket", "dogs..photos"], "error: invalid bucket name 'dogs..photos'"),
        (["break-bucket", "--bucket", "-dogs"], "error: invalid bucket name '-dogs'"),
        (["setup", "--timeout", "0"], "error: timeout 0 s is outside 1-900 s"),
        (["setup", "--timeout", "901"], "error: timeout 901 s is outside 1-900 s"),
        (["configure", "--timeout", "1000"], "error: timeout 1000 s is outside 1-900 s"),
        (["setup", "--memory", "64"], "error: memory 64 MB is outside 128-10240 MB"),
        (
            ["deploy-function", "--memory", "10241"],
            "error: memory 10241 MB is outside 128-10240 MB",
        ),
        (
            ["configure", "--env", "NOEQUALS"],
            "error: malformed --env 'NOEQUALS': expected KEY=VALUE",
        ),
        (["configure", "--env", "1BAD=x"], "error: invalid environment variable name '1BAD'"),
        (
            ["configure", "--env", "AWS_REGION=x"],
            "error: environment variable 'AWS_REGION' is reserved by Lambda",
        ),
        (
            ["configure", "--env", "BUCKET_NAME=other"],
            "error: BUCKET_NAME is the lab's: it names the bucket the lab records",
        ),
        (
            ["configure", "--env", "DOGXRAY_INJECT_LATENCY_MS=99999999"],
            "error: DOGXRAY_INJECT_LATENCY_MS 99999999 ms is outside 0-900000 ms",
        ),
        (
            ["setup", "--runtime", "python3.7"],
            "error: Lambda no longer creates functions with python3.7: creation is blocked "
            "since 2024-01-09 (deprecated 2023-12-04)",
        ),
        (["deploy-function", "--runtime", "python4.0"], "error: unknown runtime 'python4.0'"),
        (["setup", "--runtime", "nodejs22.x"], "error: unknown runtime 'nodejs22.x'"),
        (["setup", "--arch", "sparc"], "error: unknown architecture 'sparc'"),
    ],
)
def test_bad_input_exits_2_before_any_aws_call(
    runner: CliRunner, args: list[str], message: str
) -> None:
    code, out, err = invoke(runner, *DEAD_ENDPOINT, *args)
    assert code == 2, err
    assert out == ""
    assert err.splitlines()[0].startswith(message)
    assert err.splitlines()[1].startswith("hint: ")
    assert "Traceback" not in err


def test_bad_policy_choice_is_a_usage_error(runner: CliRunner) -> None:
    code, _, err = invoke(runner, "create-role", "--policy", "admin")
    assert code == 2 and "'admin' is not one of 'least-privilege', 'console'" in err


def test_unknown_region_exits_2(runner: CliRunner) -> None:
    code, _, err = invoke(runner, "--region", "mars-north-1", "status")
    assert code == 2 and err.startswith("error: unknown region 'mars-north-1'")


def test_unreachable_endpoint_fails_fast(runner: CliRunner) -> None:
    code, _, err = invoke(runner, *DEAD_ENDPOINT, "status")
    assert code == 1 and err.startswith("error: cannot reach the endpoint http://127.0.0.1:9")
    assert "Traceback" not in err


@pytest.mark.slow
@pytest.mark.usefixtures("moto")
@pytest.mark.parametrize("args", [["break-bucket"], ["fix-bucket"], ["configure"]])
def test_commands_before_setup_exit_1(runner: CliRunner, args: list[str]) -> None:
    code, _out, err = invoke(runner, *args)
    assert code == 1, err
    assert err.splitlines()[0].startswith("error: nothing deployed; run `dogxray setup` first")
    assert "dogxray setup" in err.splitlines()[1] and "Traceback" not in err


@pytest.mark.usefixtures("moto")
def test_deploy_before_the_role_exists_says_what_to_do(runner: CliRunner) -> None:
    code, _, err = invoke(runner, "deploy-function")
    assert code == 1
    assert err.splitlines() == [
        "error: role dog-photo-function-role-us-east-1 does not exist yet",
        "hint: run `dogxray create-role` first, or `dogxray setup` for every stage",
    ]


@pytest.mark.slow
@pytest.mark.usefixtures("moto")
def test_status_and_cleanup_before_setup_exit_0(runner: CliRunner) -> None:
    code, out, err = invoke(runner, "status", "--output", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert [(r["kind"], r["exists"]) for r in doc["resources"]] == [
        ("bucket", False),
        ("role", False),
        ("function", False),
        ("function-url", False),
        ("log-group", False),
    ]
    assert doc["function_url"] is None
    code, out, err = invoke(runner, "cleanup")
    assert code == 0 and out == "nothing to clean up: no resource of this lab exists\n"


@pytest.mark.slow
@pytest.mark.usefixtures("moto")
def test_lab_end_to_end(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dogxray.lab.service.build_zip", tiny_zip)
    code, out, err = invoke(runner, "setup", "--dry-run")
    assert code == 0, err
    assert (
        out.splitlines()[0]
        == "setup of lab dog-photo: 9 changes would be made (dry run, nothing changed):"
    )
    assert out.splitlines()[1] == f"  - create bucket {BUCKET} in us-east-1"

    code, out, err = invoke(runner, "setup", "--output", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) == {
        "lab",
        "region",
        "bucket",
        "role_arn",
        "function_arn",
        "function_url",
        "changed",
        "unchanged",
    }
    assert doc["changed"][0] == "bucket" and doc["unchanged"] == []
    assert "- create function dog-photo-function (python3.13, x86_64, 128 MB)" in err

    code, out, err = invoke(runner, "setup")
    assert code == 0 and err == "next: `dogxray test` to prove it works\n"
    assert out.splitlines()[0] == "lab dog-photo in us-east-1: everything is up to date"
    assert out.splitlines()[-1] == f"Function URL: {doc['function_url']}"

    code, out, err = invoke(runner, "break-bucket")
    assert code == 0, err
    assert out == (f"BUCKET_NAME of dog-photo-function now points at aws-bucket (was {BUCKET})\n")
    code, out, _ = invoke(runner, "status")
    assert "  function     dog-photo-function: drift" in out.splitlines()
    assert (
        f"      BUCKET_NAME is aws-bucket, expected {BUCKET} (broken: run `dogxray fix-bucket`)"
        in out.splitlines()
    )
    code, out, _ = invoke(runner, "fix-bucket")
    assert out == f"BUCKET_NAME of dog-photo-function restored to {BUCKET}\n"

    code, out, err = invoke(runner, "cleanup")
    assert code == 2
    assert err.splitlines() == [
        "error: cleanup deletes the lab and needs confirmation, but there is no terminal",
        "hint: re-run with --yes (see what would go with --dry-run)",
    ]
    code, out, _ = invoke(runner, "cleanup", "--dry-run")
    assert code == 0 and "would delete function dog-photo-function" in out.splitlines()
    code, out, err = invoke(runner, "cleanup", "--yes")
    assert code == 0, err
    assert out.splitlines()[-1] == "verified: nothing remains under the lab's names and tags"
    assert f"deleted bucket {BUCKET}" in out.splitlines()
    assert err.splitlines()[-1].startswith("X-Ray traces cannot be deleted")
    code, out, _ = invoke(runner, "cleanup", "--yes")
    assert code == 0 and out == "nothing to clean up: no resource of this lab exists\n"


@pytest.mark.slow
@pytest.mark.usefixtures("moto")
def test_stage_commands(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dogxray.lab.service.build_zip", tiny_zip)
    assert invoke(runner, "create-bucket")[1] == f"bucket {BUCKET} created\n"
    assert invoke(runner, "create-bucket")[1] == f"bucket {BUCKET} exists\n"
    code, out, _ = invoke(runner, "create-role")
    assert out == "role ready: arn:aws:iam::123456789012:role/dog-photo-function-role-us-east-1\n"
    code, out, err = invoke(runner, "deploy-function")
    assert code == 0, err
    assert out.startswith("function deployed: arn:aws:lambda:us-east-1:123456789012:function:")
    code, out, _ = invoke(runner, "deploy-function")
    assert out == "function code and configuration are up to date (same CodeSha256)\n"
    code, out, err = invoke(runner, "configure", "--env", "DOG=hound")
    assert code == 0, err
    assert out.splitlines()[0] == "function configured"
    assert out.splitlines()[1].startswith("Function URL: https://")


@pytest.mark.slow
@pytest.mark.usefixtures("moto")
def test_create_bucket_with_a_preexisting_bucket_says_it_is_kept(runner: CliRunner) -> None:
    from .conftest import shared_session

    shared_session().create_client("s3", region_name="us-east-1").create_bucket(Bucket="my-dogs")
    code, out, err = invoke(runner, "create-bucket", "--bucket", "my-dogs")
    assert code == 0, err
    assert out == (
        "using existing bucket my-dogs; dogxray did not create it and will never empty or "
        "delete it\n"
    )
    assert err == "dogxray keeps no local state: pass `--bucket my-dogs` to `dogxray setup`\n"


@pytest.mark.slow
@pytest.mark.usefixtures("moto")
@pytest.mark.parametrize(("answer", "code", "left"), [("n\n", 1, True), ("y\n", 0, False)])
def test_cleanup_asks_at_a_terminal(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, answer: str, code: int, left: bool
) -> None:
    monkeypatch.setattr("dogxray.lab.service.build_zip", tiny_zip)
    monkeypatch.setattr("dogxray.commands.lab._can_ask", lambda: True)
    assert invoke(runner, "setup")[0] == 0
    result = runner.invoke(app, ["cleanup"], input=answer)
    assert result.exit_code == code, result.stderr
    assert "delete these resources? [y/N]" in result.stderr
    assert "would delete function dog-photo-function" in result.stdout
    status = json.loads(invoke(runner, "status", "--output", "json")[1])
    assert any(r["exists"] for r in status["resources"]) is left


def test_setup_without_credentials_is_one_clear_message(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    built: list[str] = []
    monkeypatch.setattr(
        "dogxray.lab.service.build_zip", lambda *a, **kw: built.append("zip") or b""
    )
    code, out, err = invoke(runner, "setup")
    assert code == 1 and out == "" and built == []
    assert err.splitlines()[0] == "error: no AWS credentials found"
    assert err.splitlines()[1].startswith("hint: run `aws configure` or `aws sso login`")
    assert "Traceback" not in err


@pytest.mark.usefixtures("moto")
def test_setup_with_expired_credentials_changes_nothing(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    from .conftest import new_lab

    lab = new_lab()
    lab.faults.fail(
        "sts", "GetCallerIdentity", "ExpiredToken", "The security token is expired", status=403
    )
    monkeypatch.setattr("dogxray.commands.lab.connect", lambda _ctx: lab.aws)
    monkeypatch.setattr("dogxray.lab.service.build_zip", tiny_zip)
    code, out, err = invoke(runner, "setup")
    assert code == 1 and out == ""
    assert err.splitlines() == [
        "error: your AWS credentials have expired (GetCallerIdentity)",
        "hint: refresh them (`aws sso login`, or new keys) and re-run",
    ]
    assert lab.calls.mutating == []
