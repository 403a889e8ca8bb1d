"""The lab's real payload zip on the emulator: a dog photo saved to S3, traced; then the
break-bucket failure as the lab teaches it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from dogxray.packaging import build as package
from tests.local.conftest import Lab


@pytest.mark.slow
def test_real_payload_end_to_end(lab: Lab, tmp_path: Path) -> None:
    built = package.build_package(from_env=True)
    s3 = lab.client("s3")
    bucket = "local-tests-dogs"
    s3.create_bucket(Bucket=bucket)
    name, url = lab.deploy(
        {},
        code=built.zip_bytes,
        handler="lambda_function.lambda_handler",
        timeout=15,
        env={"BUCKET_NAME": bucket},
    )
    response = requests.get(url, timeout=20)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "image/png"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert len(keys) == 1
    assert s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read() == response.content
    names = {s["name"] for s in lab.segments(response)}
    assert {"get_dog_images", "call_dog_api", "save_dog_to_s3"} <= names

    lab.client("lambda").update_function_configuration(
        FunctionName=name, Environment={"Variables": {"BUCKET_NAME": "aws-bucket"}}
    )
    broken = requests.get(url, timeout=20)
    assert (broken.status_code, broken.text) == (502, "Internal Server Error")
    segments = lab.segments(broken)
    save = next(s for s in segments if s["name"] == "save_dog_to_s3")
    assert save["fault"] is True  # a 404 from S3 propagates as a fault of the subsegment
    dumped = json.dumps(segments)
    assert "NoSuchBucket" in dumped
