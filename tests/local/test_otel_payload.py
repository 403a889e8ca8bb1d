"""The lab's function traced with OpenTelemetry (`--tracer otel`): the zip built for it
from this environment runs in the emulator, its spans reach X-Ray through the daemon as
ADOT sends them, and the lab's subsegments appear under Lambda's function segment, with
the HTTP and S3 calls nested as the X-Ray SDK nests them, the failure as a fault with
its exception."""

from __future__ import annotations

import io
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
import requests

from dogxray.packaging.build import build_package
from tests.local.conftest import Lab


@pytest.fixture(scope="module")
def otel_zip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    build = build_package(
        from_env=True, tracer="otel", cache_dir=tmp_path_factory.mktemp("otel-build")
    )
    return build.zip_bytes


def _names(zip_bytes: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
        return archive.namelist()


def test_the_otel_zip_carries_the_sdk_and_not_the_xray_one(otel_zip: bytes) -> None:
    names = _names(otel_zip)
    tops = {n.split("/")[0] for n in names}
    assert {"otel_tracing.py", "tracing.py", "lambda_function.py"} <= tops
    assert "xray_tracing.py" not in tops and "aws_xray_sdk" not in tops
    assert {"opentelemetry", "google", "requests"} <= tops
    assert not {"boto3", "botocore"} & tops  # the runtime provides them
    assert not [n for n in names if n.endswith(".so")]  # pure Python: protobuf's fallback


@pytest.mark.slow
def test_the_lab_traced_with_opentelemetry(lab: Lab, otel_zip: bytes, tmp_path: Path) -> None:
    bucket = f"otel-{uuid.uuid4().hex[:10]}"
    lab.client("s3").create_bucket(Bucket=bucket)
    _, url = lab.deploy(
        {},
        code=otel_zip,
        handler="lambda_function.lambda_handler",
        timeout=15,
        env={"DOGXRAY_TRACER": "otel", "BUCKET_NAME": bucket},
    )
    ok = requests.get(url, timeout=30)
    assert ok.status_code == 200 and ok.headers["Content-Type"].startswith("image/")
    docs = _by_name(lab.segments(ok))
    function = docs["AWS::Lambda::Function"]
    handler = docs["handler-span"]
    assert handler["parent_id"] == function["id"]  # under Lambda's function segment
    images = docs["get_dog_images"]
    assert images["parent_id"] == handler["id"]
    call = docs["call_dog_api"]
    assert call["parent_id"] == images["id"]
    gets = _children(lab.segments(ok), call["id"])
    assert len(gets) == 2  # the Dog API, then the image
    assert {g["namespace"] for g in gets} == {"remote"}
    assert {_method(g) for g in gets} == {"GET"}
    save = docs["save_dog_to_s3"]
    assert save["annotations"]["bucket"] == bucket
    [put] = _children(lab.segments(ok), save["id"])
    assert (put["name"], put["namespace"]) == ("S3", "aws")
    assert put["aws"]["operation"] == "PutObject"
    assert set(images["annotations"]) >= {"breed", "image_bytes", "cold_start"}

    lab.client("lambda").update_function_configuration(
        FunctionName=_function_name(url),
        Environment={"Variables": {"DOGXRAY_TRACER": "otel", "BUCKET_NAME": "no-such-bucket"}},
    )
    broken = requests.get(url, timeout=30)
    assert broken.status_code == 502
    segments = lab.segments(broken)
    save = _by_name(segments)["save_dog_to_s3"]
    assert save["fault"] is True
    assert save["cause"]["exceptions"][0]["type"].endswith("NoSuchBucket")
    [put] = _children(segments, save["id"])
    assert put["aws"]["operation"] == "PutObject" and put["http"]["response"]["status"] == 404
    assert put["error"] is True  # a 4xx, as the X-Ray SDK marks it


def _children(segments: list[dict[str, Any]], parent: str) -> list[dict[str, Any]]:
    return [doc for doc in segments if doc.get("parent_id") == parent]


def _method(doc: dict[str, Any]) -> str:
    return str(doc.get("http", {}).get("request", {}).get("method"))


def _function_name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def _by_name(segments: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The documents by name; Lambda's two segments by origin, the request span (named
    after the function, as Lambda's are) as `handler-span`."""
    found: dict[str, dict[str, Any]] = {}
    for doc in segments:
        origin = doc.get("origin")
        if origin in ("AWS::Lambda", "AWS::Lambda::Function"):
            found[origin] = doc
        elif "type" not in doc and not doc.get("inferred"):
            found["handler-span"] = doc
        else:
            found.setdefault(doc["name"], doc)
    return found
