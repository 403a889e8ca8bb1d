"""The emulator's front (dogxray/local/front.py): its answers are given on the wire in
front of moto, so moto's Lambda and X-Ray classes run unchanged while it is up; only the
members `moto_surface.PATCHED` names are replaced. Invoke's invocation types and bad
bodies, TracingConfig and routing by the service a request is signed for."""

from __future__ import annotations

import base64
import inspect
import json

import pytest
import requests
from botocore.exceptions import ClientError

from dogxray.local import moto_surface
from tests.local.conftest import Lab

ECHO = "def handler(event, context):\n    print('hello')\n    return {'got': event}\n"


def _members(module: str) -> list[tuple[str, object]]:
    import importlib

    found = []
    for cls_name, cls in inspect.getmembers(importlib.import_module(module), inspect.isclass):
        if cls.__module__ != module:  # defined here, not imported
            continue
        for name, value in vars(cls).items():
            found.append((f"{module}.{cls_name}.{name}", value))
    return found


def test_moto_runs_unpatched_but_for_the_listed_members(lab: Lab) -> None:
    """While the emulator is up, no function on moto's Lambda, X-Ray, server,
    CloudWatch, model and S3 classes is dogxray's but exactly those PATCHED names."""
    patched = {f"{module}.{path}" for module, path in moto_surface.PATCHED}
    foreign = []
    for module in (
        "moto.awslambda.models",
        "moto.awslambda.policy",
        "moto.awslambda.responses",
        "moto.xray.models",
        "moto.xray.responses",
        "moto.moto_server.werkzeug_app",
        "moto.cloudwatch.models",
        "moto.core.common_models",
        "moto.s3.models",
    ):
        for name, value in _members(module):
            inner = getattr(value, "__func__", value)
            owner = getattr(inner, "__module__", None)
            if inspect.isfunction(inner) and str(owner).startswith("dogxray."):
                foreign.append(name)
    assert sorted(foreign) == sorted(patched)


def test_invoke_types_and_a_bad_body(lab: Lab) -> None:
    name, _ = lab.deploy({"app.py": ECHO})
    lam = lab.client("lambda")
    answer = lam.invoke(FunctionName=name, Payload=b'{"a": 1}', LogType="Tail")
    assert answer["StatusCode"] == 200 and "FunctionError" not in answer
    assert json.loads(answer["Payload"].read()) == {"got": {"a": 1}}
    assert "hello" in base64.b64decode(answer["LogResult"]).decode()
    assert lam.invoke(FunctionName=name, InvocationType="Event")["StatusCode"] == 202
    assert lam.invoke(FunctionName=name, InvocationType="DryRun")["StatusCode"] == 204
    with pytest.raises(ClientError) as caught:
        lam.invoke(FunctionName=name, Payload=b"{not json")
    assert caught.value.response["Error"]["Code"] == "InvalidRequestContentException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(lam.exceptions.ResourceNotFoundException):  # moto's own answer
        lam.invoke(FunctionName="no-such-function")


def test_tracing_config_is_honoured(lab: Lab) -> None:
    name, _ = lab.deploy({"app.py": ECHO}, tracing="PassThrough")
    lam = lab.client("lambda")
    answer = lam.update_function_configuration(FunctionName=name, TracingConfig={"Mode": "Active"})
    assert answer["TracingConfig"] == {"Mode": "Active"}
    assert lam.get_function_configuration(FunctionName=name)["TracingConfig"] == {"Mode": "Active"}


def test_routes_match_the_service_a_request_is_signed_for(lab: Lab) -> None:
    """An unsigned POST /ServiceGraph is not X-Ray's: moto answers it, not the front."""
    unsigned = requests.post(f"{lab.emu.endpoint_url}/ServiceGraph", json={}, timeout=10)
    assert b"ContainsOldGroupVersions" not in unsigned.content
    xray = lab.client("xray")
    with pytest.raises(ClientError) as caught:  # signed: the front answers, as X-Ray would
        xray.get_service_graph(StartTime=2, EndTime=1)
    assert caught.value.response["Error"]["Code"] == "InvalidRequestException"
    assert caught.value.response["Error"]["Message"] == "EndTime is before StartTime"
