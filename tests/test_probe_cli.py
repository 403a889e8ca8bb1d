"""`dogxray test` when the photo lands in a bucket other than the lab's recorded one
(issue 15, item 11): a FAIL line naming the bucket and key it checked, a JSON result with
`s3_match: false` and the S3 error, exit 1 — not `error: NoSuchKey`.

The lab is in-process moto (function tagged with bucket A, which exists but holds no
such object); the Function URL is played by a loopback HTTP server that answers like
the lab's payload (an image, and the key it saved in the X-Dog-Key header)."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.core.config import ENV_BUCKET_NAME, TAG_BUCKET, TAG_LAB
from dogxray.lab import probe
from tests.helpers import TRUST

BUCKET_A = "dog-photos-a-123456789012-us-east-1"  # the lab's bucket (function tag)
BUCKET_B = "dog-photos-b-123456789012-us-east-1"  # where the function really wrote
KEY = "beagle/n02088364_11136.jpg"
PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 16


@pytest.fixture
def lab(monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer) -> Iterator[None]:
    """A deployed lab whose function saves its photos to bucket B while its tags (and
    so `dogxray test`) name bucket A; the Function URL GET goes to `httpserver`."""
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "false")
    httpserver.expect_request("/").respond_with_data(
        PHOTO, headers={"Content-Type": "image/jpeg", probe.KEY_HEADER: KEY}
    )
    local_url = httpserver.url_for("/")
    real_probe = probe.probe

    def to_loopback(url: str, **kwargs: Any) -> Any:
        import requests

        return requests.get(local_url, **kwargs)

    monkeypatch.setattr(probe, "probe", functools.partial(real_probe, http=to_loopback))
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        for bucket in (BUCKET_A, BUCKET_B):
            s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=BUCKET_B, Key=KEY, Body=PHOTO)
        role = boto3.client("iam", region_name="us-east-1").create_role(
            RoleName="dog-photo-function-role-us-east-1",
            AssumeRolePolicyDocument=json.dumps(TRUST),
        )
        aws_lambda = boto3.client("lambda", region_name="us-east-1")
        aws_lambda.create_function(
            FunctionName="dog-photo-function",
            Runtime="python3.13",
            Role=role["Role"]["Arn"],
            Handler="lambda_function.lambda_handler",
            Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18},
            Environment={"Variables": {ENV_BUCKET_NAME: BUCKET_B}},
            Tags={TAG_LAB: "dog-photo", TAG_BUCKET: BUCKET_A},
        )
        aws_lambda.create_function_url_config(FunctionName="dog-photo-function", AuthType="NONE")
        yield


@pytest.mark.slow
@pytest.mark.usefixtures("lab")
def test_text_is_a_fail_line_naming_the_bucket_and_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    result = CliRunner().invoke(app, ["--region", "us-east-1", "test"])
    assert result.exit_code == 1
    first, *rest = result.stdout.splitlines()
    assert re.fullmatch(r"FAIL HTTP 200 image/jpeg  4100 bytes \d+ ms  sha256 [0-9a-f]{12}", first)
    assert rest == [f"     s3://{BUCKET_A}/{KEY}", "     s3 match: no"]
    assert result.stderr == (
        "check failed:\n"
        f"  s3://{BUCKET_A}/{KEY}:\n"
        "  NoSuchKey: The specified key does not exist; the function reported saving it,\n"
        "  so it wrote to another bucket (`dogxray status` shows the function's\n"
        "  BUCKET_NAME)\n"
    )


@pytest.mark.slow
@pytest.mark.usefixtures("lab")
def test_json_has_s3_match_false_and_the_s3_error() -> None:
    result = CliRunner().invoke(app, ["--region", "us-east-1", "test", "--output", "json"])
    assert result.exit_code == 1
    [doc] = json.loads(result.stdout)  # always an array, one result per request
    assert (doc["ok"], doc["status"], doc["s3_key"], doc["s3_match"]) == (False, 200, KEY, False)
    assert (doc["s3_bucket"], doc["s3_error"]) == (BUCKET_A, f"NoSuchKey in bucket {BUCKET_A}")
    assert result.stderr.startswith(f"check failed: s3://{BUCKET_A}/{KEY}: NoSuchKey")
