"""`demo` never acts on an existing lab (issue 15 item 3), on a moto server: with a lab
`dog-photo` set up and a user's object in its bucket, `demo --yes` runs under a new lab of
its own and its cleanup leaves the user's lab whole; `--lab dog-photo demo` is refused
before anything is created."""

from __future__ import annotations

import re
from typing import Any

import boto3
import pytest
import requests
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.core.aws import Aws
from dogxray.core.config import Settings
from dogxray.core.errors import DogxrayError
from dogxray.lab import service
from dogxray.lab.models import SetupOptions
from tests.lab.conftest import tiny_zip

BUCKET = "lovely-dogs-123456789012-us-east-1"
USER_KEY = "my-own-photo.jpg"


def _client(url: str, name: str) -> Any:
    return boto3.client(name, endpoint_url=url, region_name="us-east-1")


@pytest.fixture
def user_lab(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The lab `dog-photo` set up on the moto server, plus an object the user put there."""
    requests.post(moto_server + "/moto-api/reset", timeout=10)
    monkeypatch.setattr(service, "build_zip", tiny_zip)  # no pip build in tests
    aws = Aws(Settings.from_options(region="us-east-1", endpoint_url=moto_server))
    service.setup(aws, SetupOptions(), zip_provider=tiny_zip)
    _client(moto_server, "s3").put_object(Bucket=BUCKET, Key=USER_KEY, Body=b"mine")
    return moto_server


def _user_lab_intact(url: str) -> None:
    body = _client(url, "s3").get_object(Bucket=BUCKET, Key=USER_KEY)["Body"].read()
    assert body == b"mine"
    assert _client(url, "lambda").get_function(FunctionName="dog-photo-function")
    assert _client(url, "iam").get_role(RoleName="dog-photo-function-role-us-east-1")


def _functions(url: str) -> list[str]:
    return [f["FunctionName"] for f in _client(url, "lambda").list_functions()["Functions"]]


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_demo_runs_under_a_lab_of_its_own_and_leaves_the_users_lab(
    user_lab: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dogxray.demo import run as demo

    def no_functions_here(self: Any, stage: Any) -> None:  # as moto: no request leaves
        raise DogxrayError("the Function URL did not answer")

    monkeypatch.setattr(demo.LabDemo, "test_ok", no_functions_here)
    result = CliRunner().invoke(app, ["--endpoint-url", user_lab, "demo", "--yes"])
    # moto runs no functions: stage 4 fails, stage 6 still cleans up the demo's own lab
    assert result.exit_code == 1, result.output
    named = re.search(r"demo of the lab '(dog-photo-demo-[0-9a-f]{6})' in ", result.stderr)
    assert named, result.stderr
    demo_lab = named.group(1)
    assert f"deleted: the Function URL of {demo_lab}-function, function {demo_lab}-function" in (
        result.stderr
    )
    _user_lab_intact(user_lab)
    assert _functions(user_lab) == ["dog-photo-function"]  # the demo's own lab is gone
    buckets = [b["Name"] for b in _client(user_lab, "s3").list_buckets()["Buckets"]]
    assert buckets == [BUCKET]


@pytest.mark.slow
@pytest.mark.parametrize("yes", [["--yes"], []])
def test_demo_on_an_existing_lab_given_with_lab_is_refused(user_lab: str, yes: list[str]) -> None:
    result = CliRunner().invoke(
        app, ["--endpoint-url", user_lab, "--lab", "dog-photo", "demo", *yes]
    )
    assert result.exit_code == 2, result.output
    if not yes:  # no terminal to ask on: refused before anything is read
        assert result.output == (
            f"error: refusing to create resources in the endpoint {user_lab} without "
            "confirmation\n"
            "hint: add --yes to run the demo there (it creates a lab of its own and deletes it "
            "again), or --local to run offline\n"
        )
    else:
        assert result.output == (
            "error: the lab 'dog-photo' already exists (function dog-photo-function, role "
            f"dog-photo-function-role-us-east-1, bucket {BUCKET}, log group "
            "/aws/lambda/dog-photo-function); the demo never runs on an existing lab, since "
            f"it deletes its lab at the end (the endpoint {user_lab})\n"
            "hint: leave --lab out (the demo then makes a new lab of its own), choose a new "
            "name with --lab, or remove that lab first with "
            f"`dogxray --endpoint-url {user_lab} cleanup`\n"
        )
    _user_lab_intact(user_lab)
    assert _functions(user_lab) == ["dog-photo-function"]


def test_demo_lab_name_is_new_unless_given() -> None:
    from dogxray.demo import own_lab as demo

    given = Settings.from_options()
    assert demo.lab_settings(given, lab_given=False, local=False, token="0a1b2c").lab == (
        "dog-photo-demo-0a1b2c"
    )
    assert demo.lab_settings(given, lab_given=True, local=False).lab == "dog-photo"
    assert demo.lab_settings(given, lab_given=False, local=True).lab == "dog-photo"  # fresh
    names = {demo.lab_settings(given, lab_given=False, local=False).lab for _ in range(5)}
    assert len(names) == 5 and all(Settings.from_options(lab=n) for n in names)
