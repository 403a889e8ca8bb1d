"""The trace the function leaves: the documents the X-Ray SDK sends to the daemon."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import TRACE_ROOT, Daemon, DogApi, Lab


def _flatten(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every subsegment by id, embedded or sent on its own, with its parent's id."""
    nodes: dict[str, dict[str, Any]] = {}

    def walk(doc: dict[str, Any], parent: str | None) -> None:
        nodes[doc["id"]] = {**doc, "parent_id": doc.get("parent_id", parent)}
        for child in doc.get("subsegments", []):
            walk(child, doc["id"])

    for doc in docs:
        walk(doc, None)
    return nodes


def _tree(docs: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """(get_dog_images, children by parent id); every document is in the invocation's trace."""
    assert docs, "the SDK sent nothing to the daemon"
    assert {doc["trace_id"] for doc in docs} == {TRACE_ROOT}
    nodes = _flatten(docs)
    children: dict[str, list[dict[str, Any]]] = {}
    for node in nodes.values():
        children.setdefault(node["parent_id"], []).append(node)
    [root] = [n for n in nodes.values() if n["name"] == "get_dog_images"]
    assert root["parent_id"] == "53995c3f42cd8ad8"  # the facade segment from _X_AMZN_TRACE_ID
    return root, children


def _names(nodes: list[dict[str, Any]]) -> list[str]:
    return sorted(n["name"] for n in nodes)


@pytest.mark.slow
def test_success_trace_shape(lambda_mode: Daemon, make_lab: Callable[[], Lab]) -> None:
    lab = make_lab()
    assert lab.invoke()["statusCode"] == 200

    root, children = _tree(lambda_mode.collect())

    assert _names(children[root["id"]]) == ["call_dog_api", "save_dog_to_s3"]
    by_name = {n["name"]: n for n in children[root["id"]]}
    api, save = by_name["call_dog_api"], by_name["save_dog_to_s3"]
    http = children[api["id"]]
    assert [n["namespace"] for n in http] == ["remote", "remote"]
    urls = sorted(n["http"]["request"]["url"] for n in http)
    assert urls == sorted([lab.dog_api.url, lab.dog_api.image_url])
    assert {n["http"]["response"]["status"] for n in http} == {200}
    [put] = children[save["id"]]
    assert (put["name"], put["namespace"], put["aws"]["operation"]) == ("s3", "aws", "PutObject")
    assert put["aws"]["bucket_name"] == "lovely-dogs-test"
    assert put["aws"]["key"] == "n02088094_1003.jpg"
    assert api["annotations"] == {"breed": "hound-afghan", "image_bytes": 10246}
    assert root["annotations"] == {
        "breed": "hound-afghan",
        "image_bytes": 10246,
        "cold_start": True,
    }
    assert save["annotations"] == {"bucket": "lovely-dogs-test"}
    assert save["metadata"]["default"] == {"key": "n02088094_1003.jpg"}
    assert len(_flatten(lambda_mode.docs)) == 6  # nothing else was sent
    assert not any(n.get("fault") for n in _flatten(lambda_mode.docs).values())


@pytest.mark.slow
def test_missing_bucket_leaves_the_fault_and_the_s3_exception(
    lambda_mode: Daemon, make_lab: Callable[[], Lab], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUCKET_NAME", "aws-bucket-that-is-not-there")
    lab = make_lab()
    with pytest.raises(ClientError):
        lab.invoke()

    root, children = _tree(lambda_mode.collect())

    assert root["fault"] is True
    [save] = [n for n in children[root["id"]] if n["name"] == "save_dog_to_s3"]
    assert save["fault"] is True
    [put] = children[save["id"]]
    assert put["aws"]["operation"] == "PutObject"
    [exception] = put["cause"]["exceptions"]
    assert exception["type"] == "NoSuchBucket"
    assert exception["remote"] is True
    assert "does not exist" in exception["message"]
    # The parents refer to the child's exception by id (X-Ray's `cause` shorthand).
    assert save["cause"] == exception["id"]
    [api] = [n for n in children[root["id"]] if n["name"] == "call_dog_api"]
    assert not api.get("fault")


@pytest.mark.slow
def test_dog_api_failure_is_a_fault_on_call_dog_api(
    lambda_mode: Daemon, make_lab: Callable[[], Lab], dog_api: DogApi
) -> None:
    dog_api.server.clear()
    dog_api.server.expect_request("/api/breeds/image/random").respond_with_data("x", status=503)
    lab = make_lab()
    assert lab.invoke()["statusCode"] == 502

    root, children = _tree(lambda_mode.collect())

    assert _names(children[root["id"]]) == ["call_dog_api"]  # no S3 call at all
    [api] = children[root["id"]]
    assert api["fault"] is True
    [exception] = api["cause"]["exceptions"]
    assert exception["type"] == "DogApiError"
    assert exception["message"] == "Dog API answered HTTP 503"
    [get] = children[api["id"]]
    assert get["http"]["response"]["status"] == 503
    assert get["fault"] is True


@pytest.mark.slow
def test_unsampled_invocation_sends_nothing(
    lambda_mode: Daemon, make_lab: Callable[[], Lab], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tracing off (PassThrough): Lambda still sets the header, with Sampled=0."""
    header = "Root=1-5759e988-00000000e1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0"
    monkeypatch.setenv("_X_AMZN_TRACE_ID", header)
    lab = make_lab()
    assert lab.invoke()["statusCode"] == 200
    assert lambda_mode.collect() == []


@pytest.mark.slow
def test_second_request_is_warm(lambda_mode: Daemon, make_lab: Callable[[], Lab]) -> None:
    lab = make_lab()
    assert lab.invoke()["statusCode"] == 200
    lambda_mode.collect()
    lambda_mode.docs.clear()
    assert lab.invoke()["statusCode"] == 200
    root, _ = _tree(lambda_mode.collect())
    assert root["annotations"]["cold_start"] is False
