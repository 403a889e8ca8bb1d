"""Lab stage 4, `dogxray test`: fetch the Function URL like a browser would, and prove
the photo it returned is the one the function saved in the bucket."""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import requests

from dogxray.core.aws import Aws, error_code, error_message
from dogxray.core.errors import DogxrayError

KEY_HEADER = "X-Dog-Key"  # set by the payload: the object key the photo was saved under
HTTP_TIMEOUT_S = 30


@dataclass(frozen=True)
class ProbeResult:
    """One GET of the Function URL and its checks (SPEC `test --output json`)."""

    ok: bool
    status: int
    content_type: str
    bytes: int
    sha256: str
    s3_key: str | None
    s3_match: bool
    latency_ms: float
    s3_bucket: str = ""  # the bucket checked (the lab's, from its tags)
    s3_error: str | None = None  # why S3 could not be read: "NoSuchKey in bucket X"
    failure: str | None = None  # which check failed, in words

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc.pop("failure")
        return doc


def probe(
    aws: Aws,
    url: str,
    bucket: str,
    *,
    http: Callable[..., requests.Response] = requests.get,
    clock: Callable[[], float] = time.perf_counter,
) -> ProbeResult:
    """GET `url`; check 200 + an image; find the saved object and compare SHA-256."""
    started_at = datetime.now(timezone.utc)
    start = clock()
    try:
        response = http(url, timeout=HTTP_TIMEOUT_S, allow_redirects=True)
    except requests.RequestException as exc:
        return ProbeResult(
            False,
            0,
            "",
            0,
            "",
            None,
            False,
            (clock() - start) * 1000,
            s3_bucket=bucket,
            failure=f"the Function URL did not answer: {exc}",
        )
    latency_ms = round((clock() - start) * 1000, 1)
    body = response.content
    content_type = response.headers.get("Content-Type", "")
    digest = hashlib.sha256(body).hexdigest()
    failure = s3_error = None
    key: str | None = None
    match = False
    if response.status_code != 200:
        text = body[:200].decode("utf-8", "replace").strip()
        failure = f"the Function URL answered HTTP {response.status_code}: {text}"
    elif not content_type.startswith("image/"):
        failure = f"expected an image, got Content-Type {content_type or 'none'!r}"
    else:
        key, failure, s3_error, match = _compare(aws, bucket, response, started_at, digest)
    return ProbeResult(
        failure is None,
        response.status_code,
        content_type,
        len(body),
        digest,
        key,
        match,
        latency_ms,
        bucket,
        s3_error,
        failure,
    )


S3_READ_ERRORS = ("NoSuchKey", "NoSuchBucket", "AccessDenied")


def _compare(
    aws: Aws, bucket: str, response: requests.Response, started_at: datetime, digest: str
) -> tuple[str | None, str | None, str | None, bool]:
    """Find the saved object and compare it: (key, failure, s3_error, match). An object
    or bucket S3 cannot give back is a failed check (the photo went to another bucket:
    BUCKET_NAME changed by hand), not a crash."""
    key = None
    try:
        key = _saved_key(aws, bucket, response, started_at)
        if key is None:
            return None, f"no photo saved in s3://{bucket} for this request", None, False
        saved = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception as exc:
        code = error_code(exc)
        if code not in S3_READ_ERRORS:
            raise
        s3_error = f"{code} in bucket {bucket}"
        where = f"s3://{bucket}/{key}" if key else f"s3://{bucket}"
        failure = f"{where}: {code}: {error_message(exc).rstrip('.')}"
        if code == "NoSuchKey":
            failure += (
                "; the function reported saving it, so it wrote to another bucket "
                "(`dogxray status` shows the function's BUCKET_NAME)"
            )
        return key, failure, s3_error, False
    if hashlib.sha256(saved).hexdigest() != digest:
        return key, f"s3://{bucket}/{key} differs from the photo returned", None, False
    return key, None, None, True


def _saved_key(
    aws: Aws, bucket: str, response: requests.Response, started_at: datetime
) -> str | None:
    """The key the function reported, else the newest object written since the request."""
    for hop in (response, *response.history):  # a large photo arrives via a redirect
        key = hop.headers.get(KEY_HEADER)
        if key:
            return key
    s3 = aws.client("s3")
    newest: tuple[datetime, str] | None = None
    since = started_at - timedelta(seconds=2)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            if obj["LastModified"] >= since and (newest is None or obj["LastModified"] > newest[0]):
                newest = (obj["LastModified"], obj["Key"])
    return newest[1] if newest else None


def _resolves(host: str) -> bool:
    try:
        socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return False
    return True


def check_runs_functions(aws: Aws, url: str) -> None:
    """Refuse, once, a Function URL the endpoint cannot answer: a custom endpoint that is
    not dogxray's emulator (a plain moto server) keeps Lambda's control plane but runs no
    code, and hands out AWS-style URLs (`*.lambda-url.<region>.on.aws`) that are not its
    own, or whose host does not resolve. AWS and the emulator pass unchecked."""
    if not aws.is_local or aws.is_emulator:
        return
    host = (urlsplit(url).hostname or "").lower()
    if host.endswith(".on.aws"):
        where = f"its Function URL {url} is an AWS address, not the endpoint's"
    elif not _resolves(host):
        where = f"the host of its Function URL {url} does not resolve"
    else:
        return
    raise DogxrayError(
        f"the endpoint {aws.endpoint_url} does not run Lambda functions",
        where=where,
        hint="a plain moto server keeps the lab's resources but runs no code; run the "
        "lab on dogxray's emulator (`dogxray local`, or `dogxray demo --local`) or on AWS",
    )


def run(
    aws: Aws,
    url: str,
    bucket: str,
    *,
    count: int = 1,
    on_result: Callable[[ProbeResult], None] | None = None,
) -> list[ProbeResult]:
    """`count` probes in a row (the progress bar hangs off `on_result`). Callers check
    `check_runs_functions` first: one error, not `count` failed requests."""
    results = []
    for _ in range(count):
        result = probe(aws, url, bucket)
        results.append(result)
        if on_result:
            on_result(result)
    return results
