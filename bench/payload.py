"""Payload figures: zip size, cold init, warm latency and the handler's own overhead.

Runs the from-env zip (and the Lambda-platform zip, if pip can reach the index) in a
fresh `python -S` with only the zip and boto3 on its path, against local stand-ins: a
moto server for S3, a loopback HTTP Dog API, and a UDP sink as the X-Ray daemon.
Overhead = request latency - (Dog API call + image download + PutObject), those three
timed inside the handler (its JSON log line). Targets: zip < 1.5 MB, overhead < 5 ms.

    .venv-test/bin/python bench/payload.py [--requests 200]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import statistics
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests" / "payload")]

from common import dummy_env, moto_server  # noqa: E402
from zip_runner import run_zip  # noqa: E402

from dogxray.core.errors import DogxrayError  # noqa: E402
from dogxray.core.stats import percentile  # noqa: E402
from dogxray.packaging.build import PackageResult, build_package  # noqa: E402

IMAGE = os.urandom(48 * 1024)  # a typical Dog API photo is 20-100 kB


class _DogApi(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/api/"):
            host, port = self.server.server_address[:2]
            doc = {"message": f"http://{host}:{port}/breeds/pug/pug_1.jpg", "status": "success"}
            body, kind = json.dumps(doc).encode(), "application/json"
        else:
            body, kind = IMAGE, "image/jpeg"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@contextmanager
def dog_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _DogApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/breeds/image/random"
    finally:
        server.shutdown()


@contextmanager
def xray_sink() -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()

    def drain() -> None:
        while not stop.is_set():
            with suppress(TimeoutError, OSError):
                sock.recv(65535)

    thread = threading.Thread(target=drain, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        sock.close()


@contextmanager
def stand_ins(base_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """What the handler calls, on loopback: a moto server with the bucket, the Dog API,
    a UDP sink as the X-Ray daemon; yields the function's environment for them."""
    with moto_server() as endpoint, dog_api() as api_url, xray_sink() as daemon:
        import boto3

        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="bench-dogs")
        yield {
            **base_env,
            "AWS_ENDPOINT_URL": endpoint,
            "BUCKET_NAME": "bench-dogs",
            "DOG_API_URL": api_url,
            "AWS_XRAY_DAEMON_ADDRESS": daemon,
            "AWS_LAMBDA_FUNCTION_NAME": "dog-photo-function",
            "AWS_REGION": "us-east-1",
        }


def pct(values: list[float], q: float) -> float:
    """The project's one percentile (nearest rank), as `traces --stats` computes it."""
    return float(percentile(sorted(values), q) or 0.0)


def sizes(label: str, result: PackageResult) -> None:
    print(
        f"zip ({label}): {result.zipped_bytes:,} bytes zipped, {result.unzipped_bytes:,} "
        f"unzipped, {result.files} files  [target < 1,500,000 zipped: "
        f"{'met' if result.zipped_bytes < 1_500_000 else 'MISSED'}]"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--cold-runs", type=int, default=5)
    args = parser.parse_args()
    base_env = dummy_env()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto server's access log
    with tempfile.TemporaryDirectory(prefix="dogxray-bench-") as tmp:
        work = Path(tmp)
        env_zip = build_package(from_env=True, cache_dir=work / "cache")
        sizes("from-env, offline", env_zip)
        try:
            os.environ["PIP_CACHE_DIR"] = str(work / "pip-cache")
            sizes("python3.13 x86_64, pip", build_package(cache_dir=work / "cache"))
        except DogxrayError as exc:
            print(f"zip (python3.13 x86_64, pip): skipped: {exc.what}")
        with stand_ins(base_env) as env:
            cold = [
                run_zip(env_zip.path, work / f"cold{i}", env, count=0)["init_ms"]
                for i in range(args.cold_runs)
            ]
            print(
                f"cold init (import lambda_function incl. boto3 + X-Ray SDK, fresh process, "
                f"{args.cold_runs} runs): median {pct(cold, 50):.1f} ms, "
                f"min {min(cold):.1f} ms"
            )
            report = run_zip(env_zip.path, work / "warm", env, count=args.requests + 1, timeout=600)
    runs = report["invocations"][1:]  # the first request also warms connections up
    bad = [r for r in runs if r["status"] != 200]
    latency = [r["latency_ms"] for r in runs]
    overhead = []
    for r in runs:
        t = r["log"][0]["timings_ms"]
        overhead.append(r["latency_ms"] - (t["dog_api"] + t["image"] + t["s3"]))
    print(
        f"warm request latency over {len(runs)} requests ({len(IMAGE) // 1024} kB image, "
        f"tracing on): median {pct(latency, 50):.2f} ms, p95 {pct(latency, 95):.2f} "
        f"ms, mean {statistics.fmean(latency):.2f} ms; non-200: {len(bad)}"
    )
    med = pct(overhead, 50)
    print(
        f"handler overhead (latency - Dog API - image - S3): median {med:.2f} ms, "
        f"p95 {pct(overhead, 95):.2f} ms, mean {statistics.fmean(overhead):.2f} ms  "
        f"[target < 5 ms: {'met' if med < 5 else 'MISSED'}]"
    )


if __name__ == "__main__":
    main()
