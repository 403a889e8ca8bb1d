"""Labs and regions kept apart (issue 11 items 1, 2 and 6, issue 12 item 1), in-process moto:
two labs in one account, one lab in two regions, recorded options, a bucket in another
region, and every "kept" branch of cleanup."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.core.config import Settings, default_bucket_name
from dogxray.lab import service, validate
from dogxray.lab.models import SetupOptions

from .conftest import Lab, new_lab, tiny_zip

ACCOUNT = "123456789012"
BUCKET = f"lovely-dogs-{ACCOUNT}-us-east-1"
OTHER_BUCKET = f"lovely-dogs-other-{ACCOUNT}-us-east-1"
ROLE = "dog-photo-function-role-us-east-1"
FUNCTION = "dog-photo-function"
LOG_GROUP = "/aws/lambda/dog-photo-function"


def run_setup(lab: Lab, **options: object) -> dict:
    return service.setup(
        lab.aws, SetupOptions(**options), zip_provider=tiny_zip, executor=lab.executor
    ).to_json()


def rows(lab: Lab) -> dict[str, dict]:
    return {r["kind"]: r for r in service.status(lab.aws).to_json()["resources"]}


def assert_intact(lab: Lab) -> None:
    """Everything present and nothing called drift."""
    doc = service.status(lab.aws).to_json()
    assert [(r["kind"], r["exists"], r["drift"]) for r in doc["resources"]] == [
        ("bucket", True, []),
        ("role", True, []),
        ("function", True, []),
        ("function-url", True, []),
        ("log-group", True, []),
    ]
    assert doc["function_url"]


# --- names ---


def test_default_bucket_is_derived_from_the_lab() -> None:
    assert default_bucket_name("dog-photo", ACCOUNT, "us-east-1") == BUCKET
    assert default_bucket_name("other", ACCOUNT, "us-east-1") == OTHER_BUCKET
    labs = ["other", "Other", "OTHER", "o_ther", "o-ther", "o--ther", "x" * 42, "x" * 41 + "y"]
    names = [default_bucket_name(lab, ACCOUNT, "ap-southeast-5") for lab in labs]
    assert len(set(names)) == len(labs)  # never two labs on one bucket
    for lab, name in zip(labs, names, strict=True):
        assert validate.bucket_name(name) == name and len(name) <= 63
        assert name.endswith(f"-{ACCOUNT}-ap-southeast-5")
        assert default_bucket_name(lab, ACCOUNT, "ap-southeast-5") == name  # stable
    assert names[1] == f"lovely-dogs-other--f97e9da0-{ACCOUNT}-ap-southeast-5"
    assert names[6] == f"lovely-dogs-xxxxxxxxxxxxx--2b2573d5-{ACCOUNT}-ap-southeast-5"


def test_role_is_one_per_lab_and_region() -> None:
    s = Settings(lab="dog-photo")
    assert s.role_name("us-east-1") == ROLE
    assert s.role_name("eu-west-1") == "dog-photo-function-role-eu-west-1"
    long_a, long_b = Settings(lab="a" * 42), Settings(lab="a" * 41 + "b")
    for region in ("us-east-1", "ap-southeast-5", "us-gov-west-1"):
        a, b = long_a.role_name(region), long_b.role_name(region)
        assert len(a) <= 64 and len(b) <= 64 and a != b
        assert a.endswith(f"-function-role-{region}")


# --- two labs in one account ---


def test_two_labs_in_one_account_then_clean_up_one(make_lab) -> None:  # type: ignore[no-untyped-def]
    first, other = make_lab(), new_lab(lab="other")
    assert run_setup(first)["bucket"] == BUCKET
    assert run_setup(other)["bucket"] == OTHER_BUCKET
    env = other.client("lambda").get_function_configuration(FunctionName="other-function")
    assert env["Environment"]["Variables"] == {"BUCKET_NAME": OTHER_BUCKET}
    doc = service.cleanup(first.aws, executor=first.executor).to_json()
    assert doc["remaining"] == []
    assert f"bucket {BUCKET}" in doc["deleted"] and f"bucket {OTHER_BUCKET}" not in doc["deleted"]
    assert_intact(other)
    other.calls.clear()
    assert run_setup(other)["changed"] == [] and other.calls.mutating == []


def test_cleanup_of_the_other_lab_first_leaves_the_default_lab(make_lab) -> None:  # type: ignore[no-untyped-def]
    first, other = make_lab(), new_lab(lab="other")
    run_setup(first)
    run_setup(other)
    doc = service.cleanup(other.aws, executor=other.executor).to_json()
    assert doc["remaining"] == [] and not any("kept" in n for n in doc["notes"])
    assert_intact(first)


@pytest.mark.slow
def test_status_of_a_lab_not_deployed_shows_nothing_existing(make_lab) -> None:  # type: ignore[no-untyped-def]
    run_setup(make_lab())
    doc = service.status(new_lab(lab="fresh").aws).to_json()
    assert [(r["kind"], r["name"], r["exists"]) for r in doc["resources"]] == [
        ("bucket", f"lovely-dogs-fresh-{ACCOUNT}-us-east-1", False),
        ("role", "fresh-function-role-us-east-1", False),
        ("function", "fresh-function", False),
        ("function-url", "fresh-function", False),
        ("log-group", "/aws/lambda/fresh-function", False),
    ]
    assert doc["function_url"] is None


def test_a_bucket_another_lab_writes_to_is_kept_and_says_which(make_lab) -> None:  # type: ignore[no-untyped-def]
    first, other = make_lab(), new_lab(lab="other")
    run_setup(first)
    run_setup(other, bucket=BUCKET)  # the user shares the first lab's bucket on purpose
    doc = service.cleanup(first.aws, executor=first.executor).to_json()
    assert doc["remaining"] == []
    assert f"bucket {BUCKET}" not in doc["deleted"]
    assert (
        f"kept bucket {BUCKET}: lab other (function other-function) still write(s) to it"
        in doc["notes"]
    )
    assert first.client("s3").head_bucket(Bucket=BUCKET)
    assert_intact(other)
    # break-bucket points BUCKET_NAME away; the function's tag still names the bucket
    service.break_bucket(other.aws, executor=other.executor).to_json()
    assert service.cleanup(first.aws, dry_run=True).to_json()["deleted"] == []
    doc = service.cleanup(other.aws, executor=other.executor).to_json()
    assert f"kept bucket {BUCKET}: it belongs to lab dog-photo" in doc["notes"]
    assert doc["remaining"] == []
    doc = service.cleanup(first.aws, executor=first.executor).to_json()  # now nobody writes to it
    assert doc["deleted"] == [f"bucket {BUCKET}"] and doc["remaining"] == []


def test_a_bucket_an_unrelated_function_writes_to_is_kept(lab: Lab) -> None:
    run_setup(lab)
    lam = lab.client("lambda")
    role = lab.client("iam").get_role(RoleName=ROLE)["Role"]["Arn"]
    lam.create_function(
        FunctionName="my-own-uploader",
        Runtime="python3.13",
        Role=role,
        Handler="h.h",
        Code={"ZipFile": tiny_zip("", "", False)},
        Environment={"Variables": {"BUCKET_NAME": BUCKET}},
    )
    doc = service.cleanup(lab.aws, executor=lab.executor).to_json()
    assert f"kept bucket {BUCKET}: function my-own-uploader still write(s) to it" in doc["notes"]
    assert lab.client("s3").head_bucket(Bucket=BUCKET)


# --- one lab in two regions ---


@pytest.mark.slow
def test_one_lab_in_two_regions(make_lab) -> None:  # type: ignore[no-untyped-def]
    eu, us = make_lab("eu-west-1"), new_lab("us-east-1")
    eu_doc = run_setup(eu)
    us_doc = run_setup(us)  # after eu-west-1, as in the issue: nothing of eu-west-1 is adopted
    assert eu_doc["bucket"] == f"lovely-dogs-{ACCOUNT}-eu-west-1"
    assert us_doc["bucket"] == BUCKET
    assert eu_doc["role_arn"].endswith(":role/dog-photo-function-role-eu-west-1")
    assert us_doc["role_arn"].endswith(f":role/{ROLE}")
    iam = us.client("iam")
    eu_role = iam.get_role(RoleName="dog-photo-function-role-eu-west-1")["Role"]
    assert {t["Key"]: t["Value"] for t in eu_role["Tags"]} == {
        "dogxray:lab": "dog-photo",
        "dogxray:bucket": eu_doc["bucket"],
        "dogxray:region": "eu-west-1",
    }
    policy = iam.get_role_policy(
        RoleName="dog-photo-function-role-eu-west-1", PolicyName="dog-photo-function-policy"
    )["PolicyDocument"]
    text = json.dumps(policy)
    assert "us-east-1" not in text and eu_doc["bucket"] in text and ":logs:eu-west-1:" in text
    for lab in (eu, us, eu, us):
        lab.calls.clear()
        assert run_setup(lab)["changed"] == [] and lab.calls.mutating == []
        dry = service.setup(
            lab.aws, SetupOptions(), dry_run=True, zip_provider=tiny_zip, executor=lab.executor
        ).to_json()
        assert dry["plan"] == []
    doc = service.cleanup(us.aws, executor=us.executor).to_json()
    assert doc["remaining"] == []
    assert set(doc["deleted"]) == {
        f"the Function URL of {FUNCTION}",
        f"function {FUNCTION}",
        f"log group {LOG_GROUP}",
        "inline policy dog-photo-function-policy of role " + ROLE,
        f"role {ROLE}",
        f"bucket {BUCKET}",
    }
    assert_intact(eu)
    cfg = eu.client("lambda").get_function_configuration(FunctionName=FUNCTION)
    assert cfg["Role"] == eu_role["Arn"]
    assert iam.get_role(RoleName="dog-photo-function-role-eu-west-1")["Role"]["Arn"]
    eu.calls.clear()
    assert run_setup(eu)["changed"] == [] and eu.calls.mutating == []


# --- options recorded with the lab ---


def _config(lab: Lab, name: str = FUNCTION) -> dict:
    return lab.client("lambda").get_function_configuration(FunctionName=name)


def test_setup_options_become_the_lab(lab: Lab) -> None:
    run_setup(lab, timeout=30, memory=256, runtime="python3.12", arch="arm64")
    assert_intact(lab)
    tags = lab.client("lambda").get_function(FunctionName=FUNCTION)["Tags"]
    recorded = tags["dogxray:settings"]
    assert recorded == (
        "runtime=python3.12 arch=arm64 memory=256 timeout=30 tracing=on url=on tracer=xray "
        "reserved=none"
    )
    assert re.fullmatch(r"[A-Za-z0-9 _.:/=+\-@]{0,256}", recorded)  # legal for Lambda tags
    lab.calls.clear()
    assert run_setup(lab)["changed"] == [] and lab.calls.mutating == []
    cfg = _config(lab)
    assert (cfg["Timeout"], cfg["MemorySize"], cfg["Runtime"]) == (30, 256, "python3.12")
    # a change made outside dogxray (the console) is drift, repaired to the recorded value
    lab.client("lambda").update_function_configuration(
        FunctionName=FUNCTION, Timeout=5, MemorySize=512
    )
    assert rows(lab)["function"]["drift"] == [
        "timeout is 5 s, expected 30 s",
        "memory is 512 MB, expected 256 MB",
    ]
    assert run_setup(lab)["changed"] == ["function-configuration"]
    assert (_config(lab)["Timeout"], _config(lab)["MemorySize"]) == (30, 256)
    assert_intact(lab)
    run_setup(lab, timeout=20)  # a new option replaces the recorded one
    assert _config(lab)["Timeout"] == 20
    assert_intact(lab)


@pytest.fixture
def moto_tracing(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process moto ignores TracingConfig in UpdateFunctionConfiguration (the emulator
    honours it on the wire, in `dogxray.local.lambda_api.changed`)."""
    from moto.awslambda import models

    real = models.LambdaFunction.update_configuration

    def update(self: Any, config_updates: dict[str, Any]) -> Any:
        tracing = config_updates.get("TracingConfig")
        if isinstance(tracing, dict) and tracing.get("Mode") in ("Active", "PassThrough"):
            self.tracing_config = {"Mode": tracing["Mode"]}
        return real(self, config_updates)

    monkeypatch.setattr(models.LambdaFunction, "update_configuration", update)


@pytest.mark.usefixtures("moto_tracing")
def test_configure_changes_only_what_it_is_given(lab: Lab) -> None:
    run_setup(lab, timeout=30)
    ex = lab.executor
    doc = service.configure(lab.aws, SetupOptions(tracing=False), executor=ex).to_json()
    assert doc["changed"] == ["function-configuration"]
    cfg = _config(lab)
    assert (cfg["Timeout"], cfg["TracingConfig"]["Mode"]) == (30, "PassThrough")
    assert doc["function_url"]  # the URL is kept
    assert_intact(lab)
    lab.calls.clear()
    assert service.configure(lab.aws, SetupOptions(), executor=ex).to_json()["changed"] == []
    assert run_setup(lab)["changed"] == [] and lab.calls.mutating == []
    service.configure(lab.aws, SetupOptions(url=False), executor=ex).to_json()
    assert rows(lab)["function-url"]["exists"] is False
    assert rows(lab)["function"]["drift"] == []
    lab.calls.clear()
    doc = run_setup(lab)  # keeps the URL off, as configured
    assert doc["changed"] == [] and lab.calls.mutating == [] and doc["function_url"] is None
    service.configure(lab.aws, SetupOptions(url=True, tracing=True), executor=ex).to_json()
    assert _config(lab)["Timeout"] == 30
    assert_intact(lab)


@pytest.mark.slow
def test_stage_commands_record_the_lab_step_by_step(lab: Lab) -> None:
    """deploy-function leaves no URL yet; the console lab's configure stage then adds it."""
    ex = lab.executor
    service.create_bucket(lab.aws, executor=ex).to_json()
    service.create_role(lab.aws, executor=ex).to_json()
    service.deploy_function(
        lab.aws, SetupOptions(memory=256), zip_provider=tiny_zip, executor=ex
    ).to_json()
    doc = service.configure(lab.aws, SetupOptions(timeout=40), executor=ex).to_json()
    assert doc["function_url"] and _config(lab)["Timeout"] == 40
    assert _config(lab)["MemorySize"] == 256
    assert_intact(lab)
    lab.calls.clear()
    assert run_setup(lab)["changed"] == [] and lab.calls.mutating == []


@pytest.mark.slow
@pytest.mark.usefixtures("moto")
def test_cli_setup_timeout_then_status_and_configure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dogxray.lab.service.build_zip", tiny_zip)
    runner = CliRunner()
    assert runner.invoke(app, ["setup", "--timeout", "30"]).exit_code == 0
    status = runner.invoke(app, ["status", "--output", "json"])
    assert all(r["drift"] == [] for r in json.loads(status.stdout)["resources"])
    result = runner.invoke(app, ["configure"])
    assert (result.exit_code, result.stdout.splitlines()[0]) == (0, "already configured")
    result = runner.invoke(app, ["setup", "--output", "json"])
    assert json.loads(result.stdout)["changed"] == []
    cfg = new_lab().client("lambda").get_function_configuration(FunctionName=FUNCTION)
    assert (cfg["Timeout"], cfg["TracingConfig"]["Mode"]) == (30, "Active")


# --- a bucket in another region ---


@pytest.mark.slow
@pytest.mark.usefixtures("moto")
@pytest.mark.parametrize("command", ["create-bucket", "setup"])
def test_bucket_in_another_region_is_refused(command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dogxray.lab.service.build_zip", tiny_zip)
    s3 = new_lab().client("s3")
    s3.create_bucket(
        Bucket="dogs-in-ireland", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    result = CliRunner().invoke(app, [command, "--bucket", "dogs-in-ireland"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: bucket dogs-in-ireland is in eu-west-1, not in the lab's region us-east-1",
        "hint: use `--region eu-west-1` for this lab, or choose a bucket in us-east-1 with "
        "`--bucket NAME` (or none for the lab's default)",
    ]
    lab = new_lab()
    assert lab.client("iam").list_roles()["Roles"] == []
    assert lab.client("lambda").list_functions()["Functions"] == []
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchTagSet"):
        s3.get_bucket_tagging(Bucket="dogs-in-ireland")


def test_bucket_in_the_lab_region_given_from_us_east_1_is_accepted(make_lab) -> None:  # type: ignore[no-untyped-def]
    eu = make_lab("eu-west-1")
    eu.client("s3").create_bucket(
        Bucket="dogs-in-ireland", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    assert run_setup(eu, bucket="dogs-in-ireland")["bucket"] == "dogs-in-ireland"


# --- cleanup keeps what is not this lab's ---


@pytest.mark.slow
def test_log_group_of_another_owner_is_kept(lab: Lab) -> None:
    logs = lab.client("logs")
    logs.create_log_group(logGroupName=LOG_GROUP, tags={"owner": "team-x"})
    run_setup(lab)  # uses the existing log group, never tags it
    doc = service.cleanup(lab.aws, executor=lab.executor).to_json()
    assert doc["remaining"] == []
    assert f"log group {LOG_GROUP}" not in doc["deleted"]
    assert f"kept log group {LOG_GROUP}: it is not tagged dogxray:lab=dog-photo" in doc["notes"]
    assert logs.list_tags_log_group(logGroupName=LOG_GROUP)["tags"] == {"owner": "team-x"}


def test_log_group_tagged_for_another_lab_is_kept(lab: Lab) -> None:
    logs = lab.client("logs")
    logs.create_log_group(logGroupName=LOG_GROUP, tags={"dogxray:lab": "other"})
    doc = service.cleanup(lab.aws, executor=lab.executor).to_json()
    assert doc["notes"] == [f"kept log group {LOG_GROUP}: it belongs to lab other"]
    assert doc["deleted"] == [] and logs.describe_log_groups()["logGroups"]


def test_untagged_log_group_goes_with_the_function_only(lab: Lab) -> None:
    """Lambda creates the log group untagged on the first invocation."""
    logs = lab.client("logs")
    logs.create_log_group(logGroupName=LOG_GROUP)
    preview = service.cleanup(lab.aws, dry_run=True).to_json()  # no function of this lab: kept
    assert preview["notes"] == [
        f"kept log group {LOG_GROUP}: it is not tagged dogxray:lab=dog-photo and this lab "
        "has no function"
    ]
    run_setup(lab)
    doc = service.cleanup(lab.aws, executor=lab.executor).to_json()
    assert f"log group {LOG_GROUP}" in doc["deleted"] and doc["remaining"] == []
    assert logs.describe_log_groups()["logGroups"] == []


def test_function_and_role_of_someone_else_are_kept(lab: Lab) -> None:
    iam = lab.client("iam")
    lam = lab.client("lambda")
    arn = iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam.create_function(
        FunctionName=FUNCTION,
        Runtime="python3.13",
        Role=arn,
        Handler="h.h",
        Code={"ZipFile": tiny_zip("", "", False)},
        Tags={"dogxray:lab": "someone-else"},
    )
    doc = service.cleanup(lab.aws, executor=lab.executor).to_json()
    assert doc == {
        "deleted": [],
        "remaining": [],
        "plan": [],
        "notes": [
            f"kept function {FUNCTION}: it is not tagged dogxray:lab=dog-photo",
            f"kept role {ROLE}: it is not tagged dogxray:lab=dog-photo",
        ],
        "kept": [
            {
                "resource": f"function {FUNCTION}",
                "why": "it is not tagged dogxray:lab=dog-photo",
                "remove": None,
            },
            {
                "resource": f"role {ROLE}",
                "why": "it is not tagged dogxray:lab=dog-photo",
                "remove": None,
            },
        ],
    }
    assert lam.get_function(FunctionName=FUNCTION) and iam.get_role(RoleName=ROLE)
