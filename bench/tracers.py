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

The offline zips carry pure Python only (protobuf's Python fallback, wrapt without its C
extension). The pip zips for Lambda carry the native ones; they are built for python3.13
and cannot run here, so the runs also use pip zips built for this interpreter's version
(python3.11 on the bench machine), the closest to what Lambda runs.

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

from common import dummy_env  # noqa: E402
from payload import pct, stand_ins  # noqa: E402
from zip_runner import run_zip  # noqa: E402

from dogxray.core.config import Tracer  # noqa: E402
from dogxray.core.errors import DogxrayError  # noqa: E402
from dogxray.packaging.build import PackageResult, build_package  # noqa: E402


def _size(label: str, result: PackageResult) -> str:
    return f"{label:38} {result.zipped_bytes:>11,} {result.unzipped_bytes:>12,} {result.files:>6}"


Build = tuple[str, Tracer, PackageResult]  # (label, tracer, zip)


def _zips(work: Path) -> list[Build]:
    """The zips run: each tracer's offline one, and its pip one for this interpreter's
    Python (when the index answers); the python3.13 pip builds' sizes are printed too."""
    print(f"{'zip':38} {'zipped B':>11} {'unzipped B':>12} {'files':>6}")
    builds: list[Build] = []
    for tracer in Tracer:
        result = build_package(from_env=True, tracer=tracer.value, cache_dir=work / "cache")
        builds.append((f"{tracer.value} offline", tracer, result))
        print(_size(f"{tracer.value}, offline (this env)", result))
    os.environ["PIP_CACHE_DIR"] = str(work / "pip-cache")
    here = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for runtime in dict.fromkeys(("python3.13", here)):
        for tracer in Tracer:
            try:
                result = build_package(
                    runtime=runtime, tracer=tracer.value, cache_dir=work / "cache"
                )
            except DogxrayError as exc:
                print(f"{tracer.value}, pip ({runtime} x86_64): skipped: {exc.what}")
                continue
            print(_size(f"{tracer.value}, pip ({runtime} x86_64)", result))
            if runtime == here:
                builds.append((f"{tracer.value} pip {runtime}", tracer, result))
    return builds


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
    return f"{label:38} {pct(values, 50):9.2f} {min(values):9.2f} {max(values):9.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="dogxray-bench-tracers-") as tmp:
        work = Path(tmp)
        builds = _zips(work)
        cold: dict[str, list[float]] = {label: [] for label, _, _ in builds}
        warm: dict[str, list[float]] = {label: [] for label, _, _ in builds}
        extra: dict[str, list[float]] = {label: [] for label, _, _ in builds}
        with stand_ins(dummy_env()) as env:
            for n in range(args.rounds):
                for label, tracer, result in builds if n % 2 == 0 else reversed(builds):
                    assert result.path is not None
                    report = run_zip(
                        result.path,
                        work / f"{label.replace(' ', '-')}-{n}",
                        {**env, "DOGXRAY_TRACER": tracer.value},
                        count=args.requests + 1,
                        timeout=600,
                    )
                    cold[label].append(report["init_ms"])
                    latency, overhead = _overheads(report)
                    warm[label].append(pct(latency, 50))
                    extra[label].append(pct(overhead, 50))
    print(
        f"\n{args.rounds} rounds, {args.requests} warm requests each (every one sampled); "
        "per round: cold init once, medians of the warm requests"
    )
    print(f"{'':38} {'median':>9} {'min':>9} {'max':>9}   (ms)")
    for label, _, _ in builds:
        print(_row(f"{label} cold init", cold[label]))
        print(_row(f"{label} warm request", warm[label]))
        print(_row(f"{label} handler overhead", extra[label]))
    for kind in sorted({label.split(" ", 1)[1] for label, _, _ in builds}):
        xray, otel = f"xray {kind}", f"otel {kind}"
        if xray in cold and otel in cold:
            print(
                f"{kind}: otel / xray cold init {pct(cold[otel], 50) / pct(cold[xray], 50):.2f}, "
                f"warm request {pct(warm[otel], 50) / pct(warm[xray], 50):.2f}, "
                f"warm request + {pct(warm[otel], 50) - pct(warm[xray], 50):.2f} ms"
            )


if __name__ == "__main__":
    main()
