"""--endpoint-url at the emulator's Function URL gateway (the other port its banner
prints) says so and names the AWS endpoint to use instead."""

from __future__ import annotations

import pytest
import requests
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.core.config import GATEWAY_MARKER_PATH
from dogxray.core.endpoint_check import emulator_api_of
from dogxray.local import Emulator


def test_the_gateway_answers_its_marker_with_the_api_endpoint(emulator: Emulator) -> None:
    reply = requests.get(emulator.gateway_url + GATEWAY_MARKER_PATH, timeout=5)
    assert reply.json() == {
        "emulator": "dogxray",
        "part": "gateway",
        "endpoint_url": emulator.endpoint_url,
    }
    assert emulator_api_of(emulator.gateway_url + "/") == emulator.endpoint_url
    assert emulator_api_of(emulator.endpoint_url) is None  # the API is no gateway


@pytest.mark.slow
def test_commands_pointed_at_the_gateway_name_the_api_port(emulator: Emulator) -> None:
    gateway, api = emulator.gateway_url, emulator.endpoint_url
    expected = (
        f"error: {gateway} is not an AWS endpoint: it is the Function URL gateway of "
        "dogxray's emulator\n"
        f"hint: the emulator's AWS endpoint is {api}: use --endpoint-url {api} "
        f"(or `export AWS_ENDPOINT_URL={api}`)\n"
    )
    for command in (["status"], ["traces"], ["logs"]):
        result = CliRunner().invoke(app, ["--endpoint-url", gateway, *command])
        assert (result.exit_code, result.output) == (2, expected), command
