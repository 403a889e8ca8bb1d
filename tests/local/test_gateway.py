"""The Function URL gateway: event shape, response mapping, permissions."""

from __future__ import annotations

import base64
import json
import socket

import requests

from dogxray.local.gateway import build_event, map_response, public_access_allowed
from dogxray.local.lambda_api import url_conditions
from dogxray.local.records import Invocation
from tests.local.conftest import Lab

ECHO = """
import json
import socket
def handler(event, context):
    return {"statusCode": 201, "headers": {"content-type": "application/json", "x-echo": "1"},
            "cookies": ["a=1", "b=2"], "body": json.dumps(event)}
"""
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\nfake-image").decode()
IMAGE = f"""
def handler(event, context):
    return {{"statusCode": 200, "headers": {{"Content-Type": "image/png"}},
            "body": "{PNG}", "isBase64Encoded": True}}
"""


def test_event_has_the_payload_2_0_shape(lab: Lab) -> None:
    _, url = lab.deploy({"app.py": ECHO})
    response = requests.get(
        url + "a/b?x=1&x=2&y=", headers={"X-Custom": "v", "Cookie": "c=3; d=4"}, timeout=10
    )
    assert response.status_code == 201
    assert response.headers["x-echo"] == "1"
    assert response.headers["Content-Type"] == "application/json"
    assert response.cookies.get("a") == "1" and response.cookies.get("b") == "2"
    event = response.json()
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["rawPath"] == "/a/b" and event["rawQueryString"] == "x=1&x=2&y="
    assert event["queryStringParameters"] == {"x": "1,2", "y": ""}
    assert event["headers"]["x-custom"] == "v"
    assert "cookie" not in event["headers"] and event["cookies"] == ["c=3", "d=4"]
    assert event["isBase64Encoded"] is False and "body" not in event
    context = event["requestContext"]
    assert context["http"] == {
        "method": "GET",
        "path": "/a/b",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": event["headers"]["user-agent"],
    }
    assert context["stage"] == "$default" and context["routeKey"] == "$default"
    assert context["domainName"] == url.split("/")[2]
    assert set(context) >= {"accountId", "apiId", "domainPrefix", "requestId", "time", "timeEpoch"}


def test_request_bodies_text_and_binary(lab: Lab) -> None:
    _, url = lab.deploy({"app.py": ECHO})
    text = requests.post(
        url, data='{"k": 1}', headers={"Content-Type": "application/json"}, timeout=10
    ).json()
    assert text["body"] == '{"k": 1}' and text["isBase64Encoded"] is False
    assert text["requestContext"]["http"]["method"] == "POST"
    binary = requests.put(
        url, data=b"\x00\xff", headers={"Content-Type": "application/octet-stream"}, timeout=10
    ).json()
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == b"\x00\xff"


def test_base64_response_bodies_are_decoded(lab: Lab) -> None:
    _, url = lab.deploy({"app.py": IMAGE})
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    assert response.content == base64.b64decode(PNG)


def test_plain_results_become_200_bodies(lab: Lab) -> None:
    _, url = lab.deploy({"app.py": "def handler(e, c):\n    return 'hello'\n"})
    response = requests.get(url, timeout=10)
    assert (response.status_code, response.text) == (200, "hello")
    _, url = lab.deploy({"app.py": "def handler(e, c):\n    return {'a': 1}\n"})
    response = requests.get(url, timeout=10)
    assert response.status_code == 200 and response.json() == {"a": 1}


def test_unhandled_error_is_502(lab: Lab) -> None:
    _, url = lab.deploy({"app.py": "def handler(e, c):\n    raise KeyError('nope')\n"})
    response = requests.get(url, timeout=10)
    assert response.status_code == 502
    assert response.text == "Internal Server Error"


def test_missing_permission_statements_are_403(lab: Lab) -> None:
    code = {"app.py": "def handler(e, c):\n    return 'ok'\n"}
    for permissions in ((), ("url",), ("invoke",)):
        _, url = lab.deploy(code, permissions=permissions)
        response = requests.get(url, timeout=10)
        assert (response.status_code, response.json()) == (403, {"Message": "Forbidden"})
    _, url = lab.deploy(code, auth="AWS_IAM", permissions=())
    assert requests.get(url, timeout=10).status_code == 403
    _, url = lab.deploy(code)
    assert requests.get(url, timeout=10).text == "ok"


def test_function_url_is_on_the_gateway_and_unknown_paths_are_404(lab: Lab) -> None:
    name, url = lab.deploy({"app.py": ECHO})
    assert url == f"{lab.emu.gateway_url}/us-east-1/{name}/"
    got = lab.client("lambda").get_function_url_config(FunctionName=name)["FunctionUrl"]
    assert got == url
    assert requests.get(f"{lab.emu.gateway_url}/us-east-1/nope/", timeout=10).status_code == 404


def test_permission_conditions_are_stored_like_aws() -> None:
    statement = {"Action": "lambda:InvokeFunction", "Principal": "*", "InvokedViaFunctionUrl": True}
    assert url_conditions(statement) == {
        "Action": "lambda:InvokeFunction",
        "Principal": "*",
        "Condition": {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}},
    }
    statement = {
        "Action": "lambda:InvokeFunctionUrl",
        "Principal": "*",
        "FunctionUrlAuthType": "NONE",
    }
    statement = url_conditions(statement)
    assert statement["Condition"] == {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}
    unconditioned = {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Principal": "*"}
    assert not public_access_allowed([unconditioned, {**statement, "Effect": "Allow"}])


def test_get_policy_shows_the_function_url_conditions(lab: Lab) -> None:
    """What moto stores as raw keys, GetPolicy answers as Lambda's conditions."""
    name, _ = lab.deploy({"app.py": ECHO})
    policy = json.loads(lab.client("lambda").get_policy(FunctionName=name)["Policy"])
    conditions = [s.get("Condition") for s in policy["Statement"]]
    assert {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}} in conditions
    assert {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}} in conditions
    assert not any("FunctionUrlAuthType" in s for s in policy["Statement"])


def _inv(payload: object = None, error: dict | None = None) -> Invocation:
    inv = Invocation("f", "arn", "1", "us-east-1", "rid", "1-0-0", True, 0.0)
    inv.payload = None if error else json.dumps(payload)
    inv.error = error
    return inv


def test_response_mapping_edge_cases() -> None:
    assert map_response(_inv(error={"errorType": "X"}))[0] == 502
    assert map_response(_inv({"statusCode": 200, "body": "!!", "isBase64Encoded": True}))[0] == 502
    assert map_response(_inv({"statusCode": "x"}))[0] == 502
    status, headers, cookies, body = map_response(_inv({"statusCode": 204}))
    assert (status, headers, cookies, body) == (204, {"Content-Type": "application/json"}, [], b"")
    assert map_response(_inv([1, 2]))[3] == b"[1, 2]"


def test_build_event_omits_empty_query_parameters() -> None:
    event = build_event(
        method="GET",
        raw_path="/",
        query="",
        headers=[("Host", "h")],
        body=b"",
        host="h",
        source_ip="127.0.0.1",
        request_id="r",
        api_id="a",
        now=0.0,
    )
    assert "queryStringParameters" not in event and "cookies" not in event
    assert event["requestContext"]["time"] == "01/Jan/1970:00:00:00 +0000"


def test_http_1_0_keep_alive_is_answered_as_such(lab: Lab) -> None:
    """`ab -k` speaks HTTP/1.0 with `Connection: Keep-Alive`: two requests, one socket."""
    _, url = lab.deploy({"app.py": ECHO})
    host, port = url.removeprefix("http://").split("/", 1)[0].split(":")
    path = "/" + url.removeprefix("http://").split("/", 1)[1]
    request = f"GET {path} HTTP/1.0\r\nHost: {host}\r\nConnection: Keep-Alive\r\n\r\n".encode()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        stream = sock.makefile("rb")
        for _ in range(2):
            sock.sendall(request)
            status = stream.readline()
            headers = {}
            while (line := stream.readline().strip()) != b"":
                name, _, value = line.decode().partition(":")
                headers[name.lower()] = value.strip()
            assert status.startswith(b"HTTP/1.1 201"), status
            assert headers["connection"] == "keep-alive"
            stream.read(int(headers["content-length"]))
