"""The emulator says who it is, so `setup` builds the zip for the local interpreter there."""

from __future__ import annotations

import boto3
import pytest
import requests

from dogxray.core.aws import Aws, is_emulator
from dogxray.core.config import EMULATOR_MARKER_PATH, Settings
from dogxray.core.errors import DogxrayError
from dogxray.lab import service
from dogxray.lab.models import SetupOptions
from dogxray.local import Emulator


def test_the_emulator_answers_its_marker_and_moto_the_rest(emulator: Emulator) -> None:
    reply = requests.get(emulator.endpoint_url + EMULATOR_MARKER_PATH, timeout=5)
    assert reply.status_code == 200 and reply.json()["emulator"] == "dogxray"
    assert is_emulator(emulator.endpoint_url)
    assert is_emulator(emulator.endpoint_url + "/")
    sts = boto3.client("sts", endpoint_url=emulator.endpoint_url, region_name="us-east-1")
    assert sts.get_caller_identity()["Account"] == "123456789012"  # moto answers the rest


@pytest.mark.slow
def test_setup_on_the_emulator_builds_for_the_local_interpreter(emulator: Emulator) -> None:
    aws = Aws(Settings.from_options(lab="backend-emu", endpoint_url=emulator.endpoint_url))
    assert aws.is_emulator
    builds: list[bool] = []

    def provider(runtime: str, arch: str, local: bool, *, tracer: str) -> bytes:
        builds.append(local)
        raise DogxrayError("stop here")

    try:
        service.setup(aws, SetupOptions(), zip_provider=provider).to_json()
    except DogxrayError as exc:
        assert exc.what == "stop here"
    assert builds == [True]
    assert service.status(aws).to_json()["resources"][0]["exists"] is False  # nothing was made
