"""Only `GET /` is the lab's request: a browser's favicon request or a POST neither saves
a dog nor leaves a `get_dog_images` trace."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from .conftest import Daemon, Lab


def url_event(method: str, path: str) -> dict[str, Any]:
    """A Function URL event (payload format 2.0), as Lambda sends it."""
    return {
        "version": "2.0",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"accept": "*/*"},
        "requestContext": {"http": {"method": method, "path": path}},
        "isBase64Encoded": False,
    }


def call(lab: Lab, event: dict[str, Any]) -> dict[str, Any]:
    return lab.module.lambda_handler(event, SimpleNamespace(aws_request_id="req-x"))


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/favicon.ico", "/robots.txt", "/dog/extra"])
def test_other_paths_are_404_and_save_nothing(lab: Lab, path: str) -> None:
    reply = call(lab, url_event("GET", path))
    assert reply["statusCode"] == 404
    assert json.loads(reply["body"]) == {"error": f"not found: {path}; the dog is at /"}
    assert lab.keys() == [] and lab.dog_api.server.log == []


@pytest.mark.slow
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "HEAD"])
def test_other_methods_are_405_with_allow(lab: Lab, method: str) -> None:
    reply = call(lab, url_event(method, "/"))
    assert reply["statusCode"] == 405
    assert reply["headers"]["Allow"] == "GET"
    assert json.loads(reply["body"]) == {"error": f"method {method} not allowed; use GET"}
    assert lab.keys() == []


@pytest.mark.slow
def test_get_root_is_the_lab(lab: Lab) -> None:
    reply = call(lab, url_event("GET", "/"))
    assert reply["statusCode"] == 200 and len(lab.keys()) == 1


def test_a_console_test_event_is_the_lab(lab: Lab) -> None:
    """The console's Test button sends arbitrary JSON without HTTP details."""
    assert call(lab, {"key1": "value1"})["statusCode"] == 200


@pytest.mark.slow
def test_a_favicon_request_leaves_no_lab_subsegments(lambda_mode: Daemon, make_lab: Any) -> None:
    lab = make_lab()
    assert call(lab, url_event("GET", "/favicon.ico"))["statusCode"] == 404
    assert lambda_mode.collect() == []
