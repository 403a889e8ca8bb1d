"""Bench: the X-Ray SDK and OpenTelemetry side by side (`--tracer xray|otel`).

For each tracer: the deployment zip (offline from this environment, and for
python3.13/x86_64 from pip when the index answers), the cold start (importing
`lambda_function` in a fresh `python -S` holding only the zip and what Lambda's runtime
provides, as Lambda's Init Duration measures it) and the warm per-request cost. Every
request is sampled (`Sampled=1`), so each tracer records and sends its whole trace to a
UDP sink standing in for the Lambda X-Ray daemon. The handler's overhead is the request's
latency minus the three downstream calls the handler times itself (Dog API, image,
PutObject against a moto server). Rounds alternate the tracers; medians and ranges.

    .venv/bin/python bench/tracers.py [--rounds 5] [--requests 200]

Installed size before and after: `python bench/install.py --before 7fe8ce6^ ...`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests" / "payload")]

from common import dummy_env, moto_server  # noqa: E402
from payload import dog_api, pct, xray_sink  # noqa: E402
from zip_runner import run_zip  # noqa: E402

from dogxray.core.config import Tracer  # noqa: E402
from dogxray.core.errors import DogxrayError  # noqa: E402
from dogxray.packaging.build import PackageResult, build_package  # noqa: E402


def _size(label: str, result: PackageResult) -> str:
    return f"{label:34} {result.zipped_bytes:>11,} {result.unzipped_bytes:>12,} {result.files:>6}"


def _zips(work: Path) -> dict[Tracer, PackageResult]:
    """Each tracer's offline zip (the one measured), and the pip builds' sizes."""
    print(f"{'zip':34} {'zipped B':>11} {'unzipped B':>12} {'files':>6}")
    built = {}
    for tracer in Tracer:
        built[tracer] = build_package(from_env=True, tracer=tracer.value, cache_dir=work / "cache")
        print(_size(f"{tracer.value}, offline (this env)", built[tracer]))
    os.environ["PIP_CACHE_DIR"] = str(work / "pip-cache")
    for tracer in Tracer:
        try:
            pip = build_package(tracer=tracer.value, cache_dir=work / "cache")
        except DogxrayError as exc:
            print(f"{tracer.value}, pip (python3.13 x86_64): skipped: {exc.what}")
            continue
        print(_size(f"{tracer.value}, pip (python3.13 x86_64)", pip))
    return built


def _overheads(report: dict) -> tuple[list[float], list[float]]:
    runs = report["invocations"][1:]  # the first request also opens the connections
    bad = [r for r in runs if r["status"] != 200]
    if bad:
        raise SystemExit(f"{len(bad)} requests failed: {bad[0]}")
    latency = [r["latency_ms"] for r in runs]
    overhead = []
    for r in runs:
        t = r["log"][0]["timings_ms"]
        overhead.append(r["latency_ms"] - (t["dog_api"] + t["image"] + t["s3"]))
    return latency, overhead


def _row(label: str, values: list[float]) -> str:
    return f"{label:34} {pct(values, 50):9.2f} {min(values):9.2f} {max(values):9.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    cold: dict[Tracer, list[float]] = {t: [] for t in Tracer}
    warm: dict[Tracer, list[float]] = {t: [] for t in Tracer}
    extra: dict[Tracer, list[float]] = {t: [] for t in Tracer}
    with tempfile.TemporaryDirectory(prefix="dogxray-bench-tracers-") as tmp:
        work = Path(tmp)
        zips = _zips(work)
        with moto_server() as endpoint, dog_api() as api_url, xray_sink() as daemon:
            import boto3

            boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="bench-dogs")
            env = {
                **dummy_env(),
                "AWS_ENDPOINT_URL": endpoint,
                "BUCKET_NAME": "bench-dogs",
                "DOG_API_URL": api_url,
                "AWS_XRAY_DAEMON_ADDRESS": daemon,
                "AWS_LAMBDA_FUNCTION_NAME": "dog-photo-function",
                "AWS_REGION": "us-east-1",
            }
            for n in range(args.rounds):
                for tracer in Tracer if n % 2 == 0 else reversed(Tracer):
                    run_env = {**env, "DOGXRAY_TRACER": tracer.value}
                    path = zips[tracer].path
                    assert path is not None
                    report = run_zip(
                        path,
                        work / f"{tracer.value}-{n}",
                        run_env,
                        count=args.requests + 1,
                        timeout=600,
                    )
                    cold[tracer].append(report["init_ms"])
                    latency, overhead = _overheads(report)
                    warm[tracer].append(pct(latency, 50))
                    extra[tracer].append(pct(overhead, 50))
    print(
        f"\n{args.rounds} rounds, {args.requests} warm requests each (every one sampled); "
        "per round: cold init once, medians of the warm requests"
    )
    print(f"{'':34} {'median':>9} {'min':>9} {'max':>9}   (ms)")
    for tracer in Tracer:
        print(_row(f"{tracer.value} cold init", cold[tracer]))
        print(_row(f"{tracer.value} warm request", warm[tracer]))
        print(_row(f"{tracer.value} handler overhead", extra[tracer]))
    ratio = pct(cold[Tracer.otel], 50) / pct(cold[Tracer.xray], 50)
    print(f"cold init, otel / xray: {ratio:.2f}")
    ratio = pct(extra[Tracer.otel], 50) / pct(extra[Tracer.xray], 50)
    print(f"handler overhead, otel / xray: {ratio:.2f}")


if __name__ == "__main__":
    main()
