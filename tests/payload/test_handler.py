"""The handler against moto S3 and a stand-in Dog API: what the browser and the bucket get."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlparse

import pytest
from botocore.exceptions import ClientError
from werkzeug import Request, Response

from .conftest import BUCKET, JPEG, DogApi, Lab, log_lines


@pytest.mark.slow
def test_success_returns_the_image_and_saves_the_same_bytes(
    lab: Lab, capsys: pytest.CaptureFixture[str]
) -> None:
    response = lab.invoke()

    assert response["statusCode"] == 200
    assert response["isBase64Encoded"] is True
    assert response["headers"]["Content-Type"] == "image/jpeg"
    assert response["headers"]["X-Dog-Key"] == "n02088094_1003.jpg"
    body = base64.b64decode(response["body"])
    assert body == JPEG
    saved = lab.s3.get_object(Bucket=BUCKET, Key="n02088094_1003.jpg")
    assert saved["Body"].read() == body
    assert saved["ContentType"] == "image/jpeg"
    [line] = log_lines(capsys.readouterr().out)
    assert line["request_id"] == "req-1"
    assert line["outcome"] == "ok"
    assert line["status"] == 200
    assert (line["breed"], line["key"], line["bytes"]) == (
        "hound-afghan",
        "n02088094_1003.jpg",
        len(JPEG),
    )
    assert set(line["timings_ms"]) == {"dog_api", "image", "s3", "total"}


@pytest.mark.slow
def test_clients_are_created_once_per_environment(lab: Lab) -> None:
    s3, http = lab.module.S3, lab.module.HTTP
    assert lab.invoke()["statusCode"] == 200
    assert lab.invoke()["statusCode"] == 200
    assert lab.module.S3 is s3
    assert lab.module.HTTP is http


def _broken(handler: Callable[[Request], Response]) -> Callable[[DogApi], None]:
    def apply(api: DogApi) -> None:
        api.server.clear()
        api.server.expect_request("/api/breeds/image/random").respond_with_handler(handler)

    return apply


def _json(doc: object) -> Callable[[Request], Response]:
    return lambda _req: Response(json.dumps(doc), content_type="application/json")


def _slow(_req: Request) -> Response:
    time.sleep(0.6)
    return Response("{}", content_type="application/json")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("handler", "message"),
    [
        (lambda _req: Response("boom", status=500), "Dog API answered HTTP 500"),
        (lambda _req: Response("<html>", content_type="text/html"), "Dog API reply is not JSON"),
        (_json({"status": "error", "message": "x"}), "Dog API status is 'error', not 'success'"),
        (_json({"status": "success", "message": "ftp://x/a.jpg"}), "no http(s) image URL"),
        (_json(["not", "a", "dict"]), "Dog API status is None, not 'success'"),
        (_slow, "Dog API timed out"),
    ],
    ids=["http-500", "not-json", "status-error", "bad-url", "not-object", "timeout"],
)
def test_dog_api_failure_is_a_502_json_and_nothing_is_saved(
    make_lab: Callable[[], Lab],
    dog_api: DogApi,
    capsys: pytest.CaptureFixture[str],
    handler: Callable[[Request], Response],
    message: str,
) -> None:
    lab = make_lab()
    lab.module.API_TIMEOUT_S = (1.0, 0.2)
    _broken(handler)(dog_api)

    response = lab.invoke()

    assert response["statusCode"] == 502
    assert response["headers"]["Content-Type"] == "application/json"
    body = json.loads(response["body"])
    assert set(body) == {"error", "request_id"}
    assert message in body["error"]
    assert body["request_id"] == "req-1"
    assert lab.keys() == []
    [line] = log_lines(capsys.readouterr().out)
    assert (line["status"], line["outcome"]) == (502, "dog_api_error")


@pytest.mark.slow
def test_image_download_failure_is_a_502(lab: Lab, dog_api: DogApi) -> None:
    dog_api.server.clear()
    dog_api.server.expect_request("/api/breeds/image/random").respond_with_json(
        {"status": "success", "message": dog_api.server.url_for("/breeds/pug/gone.jpg")}
    )
    response = lab.invoke()
    assert response["statusCode"] == 502
    assert "image download answered HTTP 500" in json.loads(response["body"])["error"]
    assert lab.keys() == []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("path", "content_type", "expected"),
    [
        ("/breeds/pug/photo.weird-ext", None, "application/octet-stream"),
        ("/breeds/pug/no-extension", None, "application/octet-stream"),
        ("/breeds/pug/photo.png", None, "image/png"),
        ("/breeds/pug/photo.weird-ext", "image/webp; charset=binary", "image/webp"),
    ],
)
def test_content_type_from_response_then_extension_then_generic(
    lab: Lab, dog_api: DogApi, path: str, content_type: str | None, expected: str
) -> None:
    dog_api.serve_image(path, b"pixels", content_type)

    response = lab.invoke()

    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == expected
    key = path.rsplit("/", 1)[1]
    saved = lab.s3.get_object(Bucket=BUCKET, Key=key)
    assert (saved["Body"].read(), saved["ContentType"]) == (b"pixels", expected)


@pytest.mark.slow
def test_breed_is_unknown_when_the_url_has_no_breeds_segment(
    lab: Lab, dog_api: DogApi, capsys: pytest.CaptureFixture[str]
) -> None:
    dog_api.serve_image("/img/rex.jpg", b"x", "image/jpeg")
    assert lab.invoke()["statusCode"] == 200
    [line] = log_lines(capsys.readouterr().out)
    assert (line["breed"], line["key"]) == ("unknown", "rex.jpg")


def test_missing_bucket_propagates_the_s3_error(
    lab: Lab, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BUCKET_NAME", "aws-bucket-that-is-not-there")

    with pytest.raises(ClientError) as raised:
        lab.invoke()

    assert raised.value.response["Error"]["Code"] == "NoSuchBucket"
    [line] = log_lines(capsys.readouterr().out)
    assert line["outcome"] == "error"
    assert line["error"].startswith("NoSuchBucket: ")
    assert "NoSuchBucket" in line["error"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("region", "bucket", "host", "path"),
    [
        ("us-east-1", BUCKET, f"{BUCKET}.s3.amazonaws.com", "/n02088094_1003.jpg"),
        ("eu-west-1", BUCKET, f"{BUCKET}.s3.eu-west-1.amazonaws.com", "/n02088094_1003.jpg"),
        (
            "eu-west-1",
            "dotted.dogs",
            "s3.eu-west-1.amazonaws.com",
            "/dotted.dogs/n02088094_1003.jpg",
        ),
    ],
)
def test_image_too_large_for_a_response_redirects_to_a_presigned_url(
    make_lab: Callable[[], Lab],
    monkeypatch: pytest.MonkeyPatch,
    region: str,
    bucket: str,
    host: str,
    path: str,
) -> None:
    """SigV4 on the bucket's regional host: a SigV2 URL on the global endpoint breaks for
    new buckets outside us-east-1 (307 to a host the signature does not cover)."""
    monkeypatch.setenv("AWS_REGION", region)
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    monkeypatch.setenv("BUCKET_NAME", bucket)
    lab = make_lab()
    if bucket != BUCKET:
        lab.s3.create_bucket(Bucket=bucket)
    lab.module.RESPONSE_LIMIT_BYTES = len(JPEG)  # base64 of the photo no longer fits

    response = lab.invoke()

    assert response["statusCode"] == 302
    assert "isBase64Encoded" not in response
    location = urlparse(response["headers"]["Location"])
    assert (location.scheme, location.netloc, location.path) == ("https", host, path)
    query = parse_qs(location.query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Credential"][0].endswith(f"/{region}/s3/aws4_request")
    assert query["X-Amz-Expires"] == ["300"]
    assert lab.s3.get_object(Bucket=bucket, Key="n02088094_1003.jpg")["Body"].read() == JPEG


@pytest.mark.slow
def test_the_real_6mb_limit_keeps_a_4mb_photo_inline_and_redirects_a_5mb_one(
    lab: Lab, dog_api: DogApi
) -> None:
    dog_api.serve_image("/breeds/pug/big.jpg", b"\0" * (4 * 1024 * 1024), "image/jpeg")
    assert lab.invoke()["statusCode"] == 200
    dog_api.serve_image("/breeds/pug/huge.jpg", b"\0" * (5 * 1024 * 1024), "image/jpeg")
    assert lab.invoke()["statusCode"] == 302


def test_runs_without_lambda_or_a_daemon(
    lab: Lab, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outside Lambda there is no segment: the SDK must only log, never crash, and the
    request is served in full (the photo returned, saved, and logged)."""
    monkeypatch.delenv("_X_AMZN_TRACE_ID", raising=False)
    monkeypatch.delenv("AWS_XRAY_DAEMON_ADDRESS", raising=False)
    reply = lab.invoke()
    assert reply["statusCode"] == 200
    assert base64.b64decode(reply["body"]) == JPEG
    assert lab.keys() == ["n02088094_1003.jpg"]
    [line] = log_lines(capsys.readouterr().out)
    assert (line["outcome"], line["trace_id"]) == ("ok", None)
