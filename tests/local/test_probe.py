"""`dogxray test`'s checks (dogxray.lab.probe) against the emulator's S3, with the Function
URL played by a loopback HTTP server: the photo inline, the large photo's 302 to a
presigned URL, a payload without the key header, and each failing check."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from dogxray.core.aws import Aws
from dogxray.core.config import Settings
from dogxray.lab.probe import KEY_HEADER, probe
from tests.local.conftest import Lab

PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
PNG = {"Content-Type": "image/png"}


@pytest.fixture
def lab_bucket(lab: Lab) -> tuple[Aws, str]:
    aws = Aws(Settings.from_options(region="us-east-1", endpoint_url=lab.emu.endpoint_url))
    bucket = f"probe-{uuid.uuid4().hex[:12]}"
    aws.client("s3").create_bucket(Bucket=bucket)
    return aws, bucket


def _save(aws: Aws, bucket: str, key: str, body: bytes = PHOTO) -> None:
    aws.client("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType="image/png")


def test_inline_photo_found_by_its_key_header(
    lab_bucket: tuple[Aws, str], httpserver: HTTPServer
) -> None:
    aws, bucket = lab_bucket
    _save(aws, bucket, "corgi/a.png")
    _save(aws, bucket, "corgi/newer-but-not-ours.png", b"other")
    httpserver.expect_request("/").respond_with_data(
        PHOTO, headers={**PNG, KEY_HEADER: "corgi/a.png"}
    )
    result = probe(aws, httpserver.url_for("/"), bucket)
    assert result.failure is None and result.ok
    assert (result.status, result.content_type, result.bytes) == (200, "image/png", len(PHOTO))
    assert result.sha256 == hashlib.sha256(PHOTO).hexdigest()
    assert (result.s3_key, result.s3_match) == ("corgi/a.png", True)


def test_large_photo_redirected_to_a_presigned_url(
    lab_bucket: tuple[Aws, str], httpserver: HTTPServer
) -> None:
    aws, bucket = lab_bucket
    _save(aws, bucket, "husky/big.png")
    presigned = aws.client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "husky/big.png"}, ExpiresIn=60
    )
    assert presigned.startswith(lab_bucket[0].settings.endpoint_url or "?")
    httpserver.expect_request("/").respond_with_data(
        "", status=302, headers={"Location": presigned, KEY_HEADER: "husky/big.png"}
    )
    result = probe(aws, httpserver.url_for("/"), bucket)
    assert result.failure is None
    assert (result.status, result.content_type, result.bytes) == (200, "image/png", len(PHOTO))
    assert (result.s3_key, result.s3_match) == ("husky/big.png", True)


def test_without_the_header_the_newest_object_is_compared(
    lab_bucket: tuple[Aws, str], httpserver: HTTPServer
) -> None:
    aws, bucket = lab_bucket

    def respond(_request: Any) -> Any:
        from werkzeug import Response

        _save(aws, bucket, "pug/saved-during-the-request.png")
        return Response(PHOTO, headers=PNG)

    httpserver.expect_request("/").respond_with_handler(respond)
    result = probe(aws, httpserver.url_for("/"), bucket)
    assert (result.ok, result.s3_key) == (True, "pug/saved-during-the-request.png")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("status", "headers", "body", "failure"),
    [
        (
            502,
            {"Content-Type": "application/json"},
            b"Internal Server Error",
            "the Function URL answered HTTP 502: Internal Server Error",
        ),
        (
            200,
            {"Content-Type": "text/html"},
            b"<html>",
            "expected an image, got Content-Type 'text/html'",
        ),
        (200, {**PNG, KEY_HEADER: "x/other.png"}, PHOTO, "differs from the photo returned"),
        (200, PNG, PHOTO, "no photo saved in s3://"),
    ],
)
def test_each_failed_check_is_named(
    lab_bucket: tuple[Aws, str],
    httpserver: HTTPServer,
    status: int,
    headers: dict[str, str],
    body: bytes,
    failure: str,
) -> None:
    aws, bucket = lab_bucket
    if KEY_HEADER in headers:
        _save(aws, bucket, headers[KEY_HEADER], b"not the same photo")
    httpserver.expect_request("/").respond_with_data(body, status=status, headers=headers)
    result = probe(aws, httpserver.url_for("/"), bucket)
    assert not result.ok and result.status == status
    assert result.failure is not None and failure in result.failure
    assert result.to_json().keys() == {
        "ok",
        "status",
        "content_type",
        "bytes",
        "sha256",
        "s3_key",
        "s3_match",
        "latency_ms",
        "s3_bucket",
        "s3_error",
    }


def test_a_photo_saved_in_another_bucket_is_a_failed_check(
    lab_bucket: tuple[Aws, str], httpserver: HTTPServer
) -> None:
    """The function reports a key the lab's bucket does not hold (BUCKET_NAME was changed
    by hand): a named failure with the S3 error, not a crash."""
    aws, bucket = lab_bucket
    httpserver.expect_request("/").respond_with_data(
        PHOTO, headers={**PNG, KEY_HEADER: "beagle/elsewhere.png"}
    )
    result = probe(aws, httpserver.url_for("/"), bucket)
    assert (result.ok, result.s3_key, result.s3_match) == (False, "beagle/elsewhere.png", False)
    assert result.s3_error == f"NoSuchKey in bucket {bucket}"
    assert result.failure is not None
    assert result.failure.startswith(f"s3://{bucket}/beagle/elsewhere.png: NoSuchKey: ")


def test_a_missing_bucket_is_a_failed_check(
    lab_bucket: tuple[Aws, str], httpserver: HTTPServer
) -> None:
    """Without the key header the probe lists the bucket: a bucket that is gone is a
    named failure too."""
    aws, _ = lab_bucket
    httpserver.expect_request("/").respond_with_data(PHOTO, headers=PNG)
    gone = f"gone-{uuid.uuid4().hex[:12]}"
    result = probe(aws, httpserver.url_for("/"), gone)
    assert (result.ok, result.s3_key, result.s3_bucket) == (False, None, gone)
    assert result.s3_error == f"NoSuchBucket in bucket {gone}"
    assert result.failure is not None and result.failure.startswith(f"s3://{gone}: NoSuchBucket: ")
