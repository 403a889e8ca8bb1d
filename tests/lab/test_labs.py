"""`dogxray labs` and `cleanup --all-labs` (issue 15, "See every lab"): three labs in two
regions, plus a bucket, a role and a function dogxray did not tag, in-process moto; and
`labs` on a moto server."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
import requests
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.core.aws import Aws
from dogxray.core.config import Settings
from dogxray.lab import service
from dogxray.lab.models import SetupOptions

from .conftest import Lab, new_lab, tiny_zip

ACCOUNT = "123456789012"
EAST, WEST = "us-east-1", "eu-west-1"
A_BUCKET = f"lovely-dogs-{ACCOUNT}-{EAST}"
B_BUCKET = f"lovely-dogs-other-{ACCOUNT}-{EAST}"
C_BUCKET = f"lovely-dogs-third-{ACCOUNT}-{WEST}"
runner = CliRunner()


def _setup(lab: Lab) -> None:
    service.setup(lab.aws, SetupOptions(), zip_provider=tiny_zip, executor=lab.executor)


@pytest.fixture
def three_labs(make_lab: Callable[..., Lab]) -> dict[str, Lab]:
    """dog-photo (complete) and other (broken: BUCKET_NAME points away) in us-east-1, third
    (half-made: bucket and role, no function) in eu-west-1; and, untagged in us-east-1, a
    bucket, a role and a function of the user's."""
    a, b = make_lab(), new_lab(lab="other")
    c = new_lab(region=WEST, lab="third")
    _setup(a)
    _setup(b)
    service.break_bucket(b.aws, executor=b.executor)
    service.create_bucket(c.aws, None, executor=c.executor)
    service.create_role(c.aws, None, executor=c.executor)
    s3 = boto3.client("s3", region_name=EAST)
    s3.create_bucket(Bucket="users-own-bucket")
    role = boto3.client("iam").create_role(
        RoleName="users-function-role", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    boto3.client("lambda", region_name=EAST).create_function(
        FunctionName="users-function",
        Runtime="python3.13",
        Role=role,
        Handler="h.h",
        Code={"ZipFile": tiny_zip("", "", False)},
    )
    return {"a": a, "b": b, "c": c}


def _labs(*args: str, after: tuple[str, ...] = ()) -> dict[str, Any]:
    result = runner.invoke(app, [*args, "labs", *after, "--output", "json"])
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def _stable(lab: dict[str, Any]) -> dict[str, Any]:
    """The entry without what depends on the clock (and the URL's random id)."""
    assert lab["created"] and 0 <= lab["age_s"] < 600
    assert (lab["url"] is None) == (lab["function"] is None)
    return {k: v for k, v in lab.items() if k not in ("created", "age_s", "url")}


A = {
    "lab": "dog-photo",
    "region": EAST,
    "state": "complete",
    "function": "dog-photo-function",
    "role": f"dog-photo-function-role-{EAST}",
    "bucket": A_BUCKET,
    "log_group": "/aws/lambda/dog-photo-function",
    "alarm": None,
    "problems": [],
}
B = {
    "lab": "other",
    "region": EAST,
    "state": "broken",
    "function": "other-function",
    "role": f"other-function-role-{EAST}",
    "bucket": B_BUCKET,
    "log_group": "/aws/lambda/other-function",
    "alarm": None,
    "problems": [f"BUCKET_NAME is aws-bucket, not the lab's bucket {B_BUCKET} (`fix-bucket`)"],
}
C = {
    "lab": "third",
    "region": WEST,
    "state": "half-made",
    "function": None,
    "role": f"third-function-role-{WEST}",
    "bucket": C_BUCKET,
    "log_group": None,
    "alarm": None,
    "problems": ["missing: function, Function URL"],
}


@pytest.mark.slow
def test_labs_lists_the_labs_of_the_region(three_labs: dict[str, Lab]) -> None:
    doc = _labs("--region", EAST)
    assert doc["regions"] == [EAST] and doc["skipped"] == []
    assert [_stable(lab) for lab in doc["labs"]] == [A, B]
    assert [_stable(lab) for lab in _labs("--region", WEST)["labs"]] == [C]


@pytest.mark.slow
def test_labs_all_regions_finds_all_three(three_labs: dict[str, Lab]) -> None:
    doc = _labs("--region", EAST, after=("--all-regions",))
    assert EAST in doc["regions"] and WEST in doc["regions"] and len(doc["regions"]) > 10
    assert [_stable(lab) for lab in doc["labs"]] == [C, A, B]  # by region, then name


@pytest.mark.slow
def test_labs_text_fits_80_columns(three_labs: dict[str, Lab]) -> None:
    result = runner.invoke(app, ["--region", EAST, "labs"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:8] == [
        f"2 labs in {EAST}:",
        "",
        lines[2],  # "dog-photo in us-east-1: complete, 0s old" (the age varies)
        "  function  dog-photo-function",
        f"  role      dog-photo-function-role-{EAST}",
        f"  bucket    {A_BUCKET}",
        "  log group /aws/lambda/dog-photo-function",
        lines[7],
    ]
    assert lines[2].startswith(f"dog-photo in {EAST}: complete, ")
    assert lines[7].startswith("  URL       https://")
    assert "  ! BUCKET_NAME is aws-bucket, not the lab's bucket" in result.stdout
    assert all(len(line) <= 80 for line in lines)


@pytest.mark.slow
def test_cleanup_all_labs_is_region_scoped_and_leaves_untagged(
    three_labs: dict[str, Lab],
) -> None:
    refused = runner.invoke(app, ["--region", EAST, "cleanup", "--all-labs"], input="")
    assert refused.exit_code == 2  # no terminal to confirm on, no --yes
    assert "hint: re-run with --yes (see what would go with --dry-run)" in refused.output
    assert [lab["lab"] for lab in _labs("--region", EAST)["labs"]] == ["dog-photo", "other"]
    dry = runner.invoke(app, ["--region", EAST, "cleanup", "--all-labs", "--dry-run"])
    assert dry.exit_code == 0 and f"would delete bucket {B_BUCKET}" in dry.stdout
    result = runner.invoke(app, ["--region", EAST, "cleanup", "--all-labs", "--yes"])
    assert result.exit_code == 0, result.output
    assert "lab dog-photo:\n" in result.stdout and "lab other:\n" in result.stdout
    assert result.stdout.count("verified: nothing remains under the lab's names and tags") == 2
    assert _labs("--region", EAST)["labs"] == []
    assert [_stable(lab) for lab in _labs("--region", WEST)["labs"]] == [C]  # other region
    east = boto3.client("s3", region_name=EAST)
    assert [b["Name"] for b in east.list_buckets(BucketRegion=EAST)["Buckets"]] == [
        "users-own-bucket"
    ]
    functions = boto3.client("lambda", region_name=EAST).list_functions()["Functions"]
    assert [f["FunctionName"] for f in functions] == ["users-function"]
    roles = {r["RoleName"] for r in boto3.client("iam").list_roles()["Roles"]}
    assert roles == {"users-function-role", f"third-function-role-{WEST}"}


@pytest.mark.slow
def test_cleanup_all_labs_removes_a_bucket_another_listed_lab_wrote_to(
    make_lab: Callable[..., Lab],
) -> None:
    """Per-lab bucket sharing still holds: dog-photo's bucket is kept while lab other
    writes to it, then removed in the same run once other is gone."""
    a, b = make_lab(), new_lab(lab="other")
    _setup(a)
    service.setup(b.aws, SetupOptions(bucket=A_BUCKET), zip_provider=tiny_zip, executor=b.executor)
    result = runner.invoke(app, ["--region", EAST, "cleanup", "--all-labs", "--yes"])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("verified: nothing remains under the lab's names and tags") == 2
    assert "kept" not in result.stdout  # the verdicts are those after the second pass
    assert f"deleted bucket {A_BUCKET}" in result.stdout
    assert result.stderr.count("X-Ray traces cannot be deleted") == 1
    assert boto3.client("s3", region_name=EAST).list_buckets()["Buckets"] == []
    assert _labs("--region", EAST)["labs"] == []


@pytest.mark.slow
def test_cleanup_lab_after_the_command(make_lab: Callable[..., Lab]) -> None:
    a, b = make_lab(), new_lab(lab="other")
    _setup(a)
    _setup(b)
    result = runner.invoke(app, ["--region", EAST, "cleanup", "--lab", "other", "--yes"])
    assert result.exit_code == 0, result.output
    assert [lab["lab"] for lab in _labs("--region", EAST)["labs"]] == ["dog-photo"]
    both = runner.invoke(app, ["--lab", "dog-photo", "cleanup", "--lab", "x", "--yes"])
    assert both.exit_code == 2
    assert "error: two labs given: --lab dog-photo before the command and --lab x" in (both.output)
    bad = runner.invoke(app, ["cleanup", "--all-labs", "--lab", "x"])
    assert bad.exit_code == 2 and "--all-labs removes every lab of the region" in bad.output


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_labs_on_a_moto_server(moto_server: str) -> None:
    requests.post(moto_server + "/moto-api/reset", timeout=10)
    aws = Aws(Settings.from_options(region=EAST, endpoint_url=moto_server))
    service.setup(aws, SetupOptions(), zip_provider=tiny_zip)
    doc = _labs("--endpoint-url", moto_server, "--region", EAST)
    assert [_stable(lab) for lab in doc["labs"]] == [A]
    done = runner.invoke(
        app, ["--endpoint-url", moto_server, "--region", EAST, "cleanup", "--all-labs", "--yes"]
    )
    assert done.exit_code == 0, done.output
    assert _labs("--endpoint-url", moto_server, "--region", EAST)["labs"] == []


@pytest.mark.slow
def test_labs_without_the_tagging_api_uses_the_services_lists(
    three_labs: dict[str, Lab], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An identity without tag:GetResources: the same labs, from Lambda, Logs and S3."""
    from dogxray.core.aws import ClientError
    from dogxray.lab import labs

    def refused(*_: object) -> None:
        raise ClientError({"Error": {"Code": "AccessDeniedException"}}, "GetResources")

    monkeypatch.setattr(labs, "_tagged", refused)
    assert [_stable(lab) for lab in _labs("--region", EAST)["labs"]] == [A, B]
    assert [_stable(lab) for lab in _labs("--region", WEST)["labs"]] == [C]


@pytest.mark.slow
def test_a_region_not_enabled_is_skipped_and_said(
    three_labs: dict[str, Lab], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dogxray.core.aws import ClientError
    from dogxray.lab import labs

    survey = labs._survey_region

    def opt_in_region_off(aws: Aws, region: str) -> Any:
        if region == "ap-east-1":
            raise ClientError({"Error": {"Code": "UnrecognizedClientException"}}, "ListBuckets")
        return survey(aws, region)

    monkeypatch.setattr(labs, "_survey_region", opt_in_region_off)
    doc = _labs("--region", EAST, after=("--all-regions",))
    assert doc["skipped"] == ["ap-east-1"] and len(doc["labs"]) == 3
    text = runner.invoke(app, ["--region", EAST, "labs", "--all-regions"])
    assert "skipped ap-east-1: not enabled for this account, or not readable\n" in text.stderr
