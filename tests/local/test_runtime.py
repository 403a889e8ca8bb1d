"""The Lambda runtime: deployed code, timeouts, Lambda's errors, warm reuse, logs, env."""

from __future__ import annotations

import base64
import json
import re

import pytest
import requests

from tests.local.conftest import Lab, with_xray_sdk, zipped

ECHO = """
import json, os, time
INIT_PID = os.getpid()
print("init ran")

def handler(event, context):
    print("handling", event["rawPath"])
    if event["rawPath"] == "/sleep":
        time.sleep(30)
    return {"statusCode": 200, "body": json.dumps({
        "pid": INIT_PID, "env": dict(os.environ),
        "remaining": context.get_remaining_time_in_millis(),
        "request_id": context.aws_request_id, "function": context.function_name})}
"""


def test_runs_the_deployed_code_with_lambdas_environment(lab: Lab) -> None:
    name, url = lab.deploy({"app.py": ECHO}, env={"GREETING": "hi", "DOG_API_URL": "https://x"})
    body = requests.get(url, timeout=10).json()
    env = body["env"]
    workdir = str(lab.emu.workdir)
    assert env["GREETING"] == "hi"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name == body["function"]
    assert env["_HANDLER"] == "app.handler"
    assert env["LAMBDA_TASK_ROOT"].startswith(workdir)
    assert env["TMPDIR"].startswith(workdir)
    assert env["AWS_ENDPOINT_URL"] == lab.emu.endpoint_url
    assert env["AWS_ACCESS_KEY_ID"] == "testing"
    assert env["AWS_EC2_METADATA_DISABLED"] == "true"
    assert env["AWS_XRAY_DAEMON_ADDRESS"].startswith("127.0.0.1:")
    daemon = (env["_AWS_XRAY_DAEMON_ADDRESS"], env["_AWS_XRAY_DAEMON_PORT"])
    assert ":".join(daemon) == env["AWS_XRAY_DAEMON_ADDRESS"]
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert re.fullmatch(
        r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=1", env["_X_AMZN_TRACE_ID"]
    )
    # DOG_API_URL points at the offline Dog API; the stored configuration is unchanged.
    assert env["DOG_API_URL"] == lab.emu.dog_api_url
    stored = lab.client("lambda").get_function_configuration(FunctionName=name)
    assert stored["Environment"]["Variables"]["DOG_API_URL"] == "https://x"
    assert 0 < body["remaining"] <= 3000


@pytest.mark.slow
def test_timeout_kills_the_environment_and_next_start_is_cold(lab: Lab) -> None:
    name, url = lab.deploy({"app.py": ECHO}, timeout=1)
    first = requests.get(url, timeout=10).json()["pid"]
    # The handler sleeps 30 s: an answer within the request's 10 s bound is the runtime
    # cutting it off, and the trace records how long it let it run.
    response = requests.get(url + "sleep", timeout=10)
    assert response.status_code == 502
    assert response.text == "Internal Server Error"
    assert requests.get(url, timeout=10).json()["pid"] != first
    messages = lab.log_messages(name)
    assert any(m.endswith("Task timed out after 1.00 seconds") for m in messages)
    function = next(s for s in lab.segments(response) if s["origin"] == "AWS::Lambda::Function")
    assert function["fault"] is True
    assert function["cause"]["exceptions"][0]["type"] == "Sandbox.Timedout"
    assert 1.0 <= function["end_time"] - function["start_time"] < 30


def test_import_error_and_missing_handler_fail_like_lambda(lab: Lab) -> None:
    name, url = lab.deploy({"app.py": "import not_a_module\n"})
    assert requests.get(url, timeout=10).status_code == 502
    assert any(
        m.startswith(
            "[ERROR] Runtime.ImportModuleError: Unable to import module 'app': "
            "No module named 'not_a_module'"
        )
        for m in lab.log_messages(name)
    )
    name, url = lab.deploy({"app.py": "def other(e, c):\n    return 1\n"})
    response = requests.get(url, timeout=10)
    assert response.status_code == 502
    assert any(
        m.startswith("[ERROR] Runtime.HandlerNotFound: Handler 'handler' missing on module 'app'")
        for m in lab.log_messages(name)
    )
    segments = lab.segments(response)
    function = next(s for s in segments if s["origin"] == "AWS::Lambda::Function")
    assert function["cause"]["exceptions"][0]["type"] == "Runtime.HandlerNotFound"


def test_warm_environment_is_reused(lab: Lab) -> None:
    name, url = lab.deploy({"app.py": ECHO})
    cold = requests.get(url, timeout=10)
    warm = requests.get(url, timeout=10)
    assert cold.json()["pid"] == warm.json()["pid"]

    def subsegments(response: requests.Response) -> list[str]:
        function = [s for s in lab.segments(response) if s["origin"] == "AWS::Lambda::Function"]
        return [sub["name"] for sub in function[0]["subsegments"]]

    assert subsegments(cold) == ["Initialization", "Invocation", "Overhead"]
    assert subsegments(warm) == ["Invocation", "Overhead"]
    assert lab.log_messages(name).count("init ran") == 1


def test_configuration_and_code_changes_start_a_new_environment(lab: Lab) -> None:
    name, url = lab.deploy({"app.py": ECHO}, env={"GREETING": "hi"})
    first = requests.get(url, timeout=10).json()
    lam = lab.client("lambda")
    lam.update_function_configuration(
        FunctionName=name, Environment={"Variables": {"GREETING": "yo"}}
    )
    second = requests.get(url, timeout=10).json()
    assert second["env"]["GREETING"] == "yo"
    assert second["pid"] != first["pid"]
    new_code = 'def handler(event, context):\n    return {"statusCode": 200, "body": "v2"}\n'
    lam.update_function_code(FunctionName=name, ZipFile=zipped({"app.py": new_code}))
    assert requests.get(url, timeout=10).text == "v2"


def test_log_lines_reach_cloudwatch_logs(lab: Lab) -> None:
    name, url = lab.deploy({"app.py": ECHO})
    request_ids = [requests.get(url + "p", timeout=10).json()["request_id"] for _ in range(2)]
    logs = lab.client("logs")
    streams = logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"]
    assert len(streams) == 1
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", streams[0]["logStreamName"])
    messages = lab.log_messages(name)
    first, second = request_ids
    assert messages[0].startswith("INIT_START Runtime Version: python:3.13")
    assert messages[1:5] == [
        "init ran",
        f"START RequestId: {first} Version: $LATEST",
        "handling /p",
        f"END RequestId: {first}",
    ]
    report = messages[5]
    assert re.match(
        rf"REPORT RequestId: {first}\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\t"
        r"Memory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: [\d.]+ ms",
        report,
    )
    assert "XRAY TraceId: 1-" in report
    assert f"START RequestId: {second} Version: $LATEST" in messages
    assert "Init Duration" not in messages[-1]


def test_xray_touch_file_stays_in_the_temp_dir(lab: Lab) -> None:
    code = """
import os
from aws_xray_sdk.core import lambda_launcher, xray_recorder
def handler(event, context):
    return {"statusCode": 200, "body": lambda_launcher.TOUCH_FILE_PATH}
"""
    _, url = lab.deploy({}, code=with_xray_sdk({"app.py": code}))
    path = requests.get(url, timeout=10).text
    assert path.startswith(str(lab.emu.workdir))
    assert path.endswith("/.aws-xray/initialized")
    with open(path):  # the SDK did write it, there
        pass


def test_invoke_api_uses_the_same_runtime(lab: Lab) -> None:
    code = """
def handler(event, context):
    print("invoked with", event)
    if event.get("fail"):
        raise ValueError("bad input")
    return {"doubled": event["n"] * 2}
"""
    name, _ = lab.deploy({"app.py": code})
    lam = lab.client("lambda")
    ok = lam.invoke(FunctionName=name, Payload=b'{"n": 21}', LogType="Tail")
    assert json.loads(ok["Payload"].read()) == {"doubled": 42}
    assert "FunctionError" not in ok
    assert "invoked with {'n': 21}" in base64.b64decode(ok["LogResult"]).decode()
    failed = lam.invoke(FunctionName=name, Payload=b'{"fail": true}')
    assert failed["FunctionError"] == "Unhandled"
    error = json.loads(failed["Payload"].read())
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "bad input")
    assert "frames" not in error


def test_recreated_function_starts_cold(lab: Lab) -> None:
    name, url = lab.deploy({"app.py": ECHO})
    first = requests.get(url, timeout=10).json()["pid"]
    lab.client("lambda").delete_function(FunctionName=name)
    _, url = lab.deploy({"app.py": ECHO}, name=name)
    assert requests.get(url, timeout=10).json()["pid"] != first


def test_only_the_zip_and_the_runtimes_sdk_are_importable(lab: Lab) -> None:
    """As on Lambda: boto3 is there, anything else installed here (requests, moto) is
    not, so a package that forgot a dependency fails here as it would on AWS."""
    code = """
import importlib.util
def handler(event, context):
    names = ("boto3", "botocore", "requests", "moto", "aws_xray_sdk", "dogxray")
    found = [n for n in names if importlib.util.find_spec(n)]
    return {"statusCode": 200, "body": ",".join(found)}
"""
    _, url = lab.deploy({"app.py": code})
    assert requests.get(url, timeout=10).text == "boto3,botocore"
    name, url = lab.deploy({"app.py": "import requests\ndef handler(e, c):\n    return 1\n"})
    assert requests.get(url, timeout=10).status_code == 502
    assert any(
        m.startswith(
            "[ERROR] Runtime.ImportModuleError: Unable to import module 'app': "
            "No module named 'requests'"
        )
        for m in lab.log_messages(name)
    )
