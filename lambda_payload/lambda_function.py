"""The lab's function: fetch a random dog photo, save it to S3, return it to the browser.

Reached through a Function URL (payload v2.0): only `GET /` is the lab's request, so a
browser's `/favicon.ico` (or a stray POST) neither saves a dog nor leaves a lab trace.
Traced with X-Ray as
`get_dog_images` > `call_dog_api` (both HTTP GETs) and `save_dog_to_s3` (the PutObject).
A Dog API failure is answered with a 502 JSON body; an S3 failure propagates on
purpose, so the URL answers `Internal Server Error` and the trace shows the fault (the
lab's error demo). This module never imports dogxray.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import os
import time
from typing import Any
from urllib.parse import unquote, urlparse

import boto3
import injection
import requests
import tracing
from botocore.config import Config

DEFAULT_DOG_API_URL = "https://dog.ceo/api/breeds/image/random"
# Per-call limits, each well inside the lab's 15 s function timeout.
API_TIMEOUT_S = (2.0, 3.0)  # (connect, read)
IMAGE_TIMEOUT_S = (2.0, 3.0)
IMAGE_DEADLINE_S = 5.0  # whole download, however slowly the bytes trickle in
MAX_IMAGE_BYTES = 20 * 1024 * 1024
# Lambda's synchronous response limit is 6 MB for the whole JSON response document.
RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024
RESPONSE_OVERHEAD_BYTES = 1024  # statusCode, headers, JSON punctuation
PRESIGNED_URL_TTL_S = 300
CHUNK_BYTES = 64 * 1024

# Created once per execution environment, reused by every warm invocation.
S3_CONFIG = Config(
    connect_timeout=2, read_timeout=3, retries={"max_attempts": 2, "mode": "standard"}
)
S3 = boto3.client("s3", config=S3_CONFIG)
HTTP = requests.Session()
mimetypes.init()
LAB_PATH = "/"
LAB_METHODS = ("GET",)
_COLD = {"start": True}  # the first request of this execution environment
_PRESIGNERS: dict[str, Any] = {}  # by addressing style; made on the first large image


def _presigner(bucket: str) -> Any:
    """An S3 client for presigned URLs: SigV4 on the bucket's regional endpoint.

    boto3's default presigned URL is SigV2 on the global `s3.amazonaws.com`, which a new
    bucket outside us-east-1 answers with a redirect to a host the signature does not
    cover (and some regions refuse SigV2). Dotted names stay path-style (TLS wildcard)."""
    style = "path" if "." in bucket else "virtual"
    if style not in _PRESIGNERS:
        config = Config(signature_version="s3v4", s3={"addressing_style": style})
        _PRESIGNERS[style] = boto3.client("s3", config=S3_CONFIG.merge(config))
    return _PRESIGNERS[style]


class DogApiError(Exception):
    """The Dog API (or the image it pointed at) failed us: answered with a 502."""


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)


def _image_url(api_url: str) -> str:
    """Ask the Dog API for a random image; validate its reply."""
    try:
        reply = HTTP.get(api_url, timeout=API_TIMEOUT_S)
    except requests.Timeout as exc:
        raise DogApiError(f"Dog API timed out ({api_url})") from exc
    except requests.RequestException as exc:
        raise DogApiError(f"Dog API unreachable ({api_url}): {type(exc).__name__}") from exc
    if reply.status_code != 200:
        raise DogApiError(f"Dog API answered HTTP {reply.status_code}")
    try:
        doc = reply.json()
    except ValueError as exc:
        raise DogApiError("Dog API reply is not JSON") from exc
    if not isinstance(doc, dict) or doc.get("status") != "success":
        status = doc.get("status") if isinstance(doc, dict) else None
        raise DogApiError(f"Dog API status is {status!r}, not 'success'")
    url = doc.get("message")
    parsed = urlparse(url) if isinstance(url, str) else None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise DogApiError("Dog API reply has no http(s) image URL")
    return url


def _download(url: str) -> tuple[bytes, str | None]:
    """GET the image within a total deadline and size cap; return bytes and Content-Type."""
    started = time.perf_counter()
    try:
        with HTTP.get(url, timeout=IMAGE_TIMEOUT_S, stream=True) as reply:
            if reply.status_code != 200:
                raise DogApiError(f"image download answered HTTP {reply.status_code}")
            chunks: list[bytes] = []
            size = 0
            for chunk in reply.iter_content(CHUNK_BYTES):
                size += len(chunk)
                if size > MAX_IMAGE_BYTES:
                    raise DogApiError(f"image larger than {MAX_IMAGE_BYTES} bytes")
                if time.perf_counter() - started > IMAGE_DEADLINE_S:
                    raise DogApiError(f"image download took over {IMAGE_DEADLINE_S:g} s")
                chunks.append(chunk)
            content_type = reply.headers.get("Content-Type")
    except requests.Timeout as exc:
        raise DogApiError("image download timed out") from exc
    except requests.RequestException as exc:
        raise DogApiError(f"image download failed: {type(exc).__name__}") from exc
    body = b"".join(chunks)
    if not body:
        raise DogApiError("image download returned no bytes")
    return body, content_type


def _names(url: str) -> tuple[str, str]:
    """The S3 key (the image's file name) and the breed (the path segment after breeds/)."""
    segments = [unquote(s) for s in urlparse(url).path.split("/") if s]
    if not segments:
        raise DogApiError("image URL has no file name")
    breed = "unknown"
    if "breeds" in segments[:-1]:
        breed = segments[segments.index("breeds") + 1]
    return segments[-1], breed


def _content_type(header: str | None, key: str) -> str:
    """The response's own type; else guessed from the extension; else a generic binary type."""
    media = (header or "").split(";")[0].strip().lower()
    if media and media != "application/octet-stream":
        return media
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


def _json_response(status: int, doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
        "body": json.dumps(doc),
    }


def _not_the_lab(event: dict[str, Any]) -> dict[str, Any] | None:
    """A 404/405 for anything but `GET /`; None for the lab's request. An event without
    HTTP details (a console test event, a direct invoke) counts as the lab's request."""
    http = (event.get("requestContext") or {}).get("http") or {}
    path = event.get("rawPath") or http.get("path") or LAB_PATH
    method = str(http.get("method") or "GET").upper()
    if path != LAB_PATH:
        return _json_response(404, {"error": f"not found: {path}; the dog is at {LAB_PATH}"})
    if method not in LAB_METHODS:
        answer = _json_response(405, {"error": f"method {method} not allowed; use GET"})
        answer["headers"]["Allow"] = ", ".join(LAB_METHODS)
        return answer
    return None


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """One request: Dog API -> image -> S3 -> the image (or a redirect, or a 502)."""
    with tracing.invocation():
        return _handle(event, context)


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    refused = _not_the_lab(event if isinstance(event, dict) else {})
    if refused is not None:
        return refused
    started = time.perf_counter()
    cold, _COLD["start"] = _COLD["start"], False
    request_id = getattr(context, "aws_request_id", None) or "local"
    log: dict[str, Any] = {
        "request_id": request_id,
        "trace_id": tracing.trace_id(),
        "cold_start": cold,
    }
    timings: dict[str, float] = {}
    log["timings_ms"] = timings
    try:
        with tracing.subsegment("get_dog_images") as parent:
            _note_injection(log, injection.before("call_dog_api"))
            with tracing.subsegment("call_dog_api") as sub:
                step = time.perf_counter()
                url = _image_url(os.environ.get("DOG_API_URL") or DEFAULT_DOG_API_URL)
                timings["dog_api"] = _ms(step)
                key, breed = _names(url)
                log.update(key=key, breed=breed)
                step = time.perf_counter()
                body, header_type = _download(url)
                timings["image"] = _ms(step)
                content_type = _content_type(header_type, key)
                log.update(bytes=len(body), content_type=content_type)
                tracing.annotate(sub, breed=breed, image_bytes=len(body))
            _note_injection(log, injection.before("save_dog_to_s3"))
            with tracing.subsegment("save_dog_to_s3") as sub:
                bucket = os.environ["BUCKET_NAME"]
                log["bucket"] = bucket
                tracing.annotate(sub, bucket=bucket)
                tracing.metadata(sub, key=key)  # one value per image: not worth an index
                step = time.perf_counter()
                S3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
                timings["s3"] = _ms(step)
            tracing.annotate(parent, breed=breed, image_bytes=len(body), cold_start=cold)
            response = _image_response(bucket, key, body, content_type)
        log.update(status=response["statusCode"], outcome="ok")
        if response["statusCode"] == 302:
            log["outcome"] = "redirect"
        return response
    except DogApiError as exc:
        log.update(status=502, outcome="dog_api_error", error=str(exc))
        return _json_response(502, {"error": str(exc), "request_id": request_id})
    except injection.InjectedFailure as exc:
        log.update(outcome="injected_failure", error=str(exc))
        raise  # as an S3 failure: Internal Server Error, and the fault in the trace
    except Exception as exc:
        # S3 (or anything unexpected): propagate, so the URL answers Internal Server
        # Error and the trace keeps the fault; the lab's error demo relies on it.
        log.update(outcome="error", error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        timings["total"] = _ms(started)
        print(json.dumps(log, default=str), flush=True)


def _note_injection(log: dict[str, Any], injected: dict[str, object] | None) -> None:
    if injected is not None:
        log["injected"] = injected


def _image_response(bucket: str, key: str, body: bytes, content_type: str) -> dict[str, Any]:
    """The image base64-encoded, or a redirect to it when too large for a Lambda response."""
    encoded_size = 4 * ((len(body) + 2) // 3)
    headers = {"Cache-Control": "no-store", "X-Dog-Key": key}
    if encoded_size + RESPONSE_OVERHEAD_BYTES > RESPONSE_LIMIT_BYTES:
        location = _presigner(bucket).generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=PRESIGNED_URL_TTL_S
        )
        return {"statusCode": 302, "headers": {**headers, "Location": location}, "body": ""}
    return {
        "statusCode": 200,
        "headers": {**headers, "Content-Type": content_type},
        "isBase64Encoded": True,
        "body": base64.b64encode(body).decode("ascii"),
    }
