"""Benchmark of the offline lab: `demo --local` wall time by stage, and cold/warm
request latency through the emulator's Function URL gateway (p50/p95 over 100 warm).

Targets: the whole demo under 15 s on a 2-core machine; warm request p50 under 50 ms.
Run: .venv-test/bin/python bench/demo.py
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from dogxray.core.config import ENV_CACHE_DIR
from dogxray.core.stats import percentile

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import dummy_env

WARM_REQUESTS = 100


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The demo narrates on stderr and prints the waterfall on stdout: keep the figures."""
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        yield


def bench_demo() -> None:
    from dogxray.core.config import Settings
    from dogxray.demo import run as demo

    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as cache, _quiet():
        os.environ[ENV_CACHE_DIR] = cache  # a cold package build is part of the figure
        report = demo.run(Settings.from_options(), local=True)
    total = time.perf_counter() - start
    staged = sum(stage.seconds for stage in report.stages)
    print(
        f"demo --local: {total:.2f} s wall, {'passed' if report.ok else 'FAILED'} "
        f"(target < 15 s: {'met' if total < 15 else 'NOT met'})"
    )
    print(f"  emulator start/stop (outside the stages): {total - staged:.2f} s")
    for stage in report.stages:
        print(f"  stage {stage.number:<4} {stage.title:<26} {stage.seconds:6.2f} s")


def bench_requests() -> None:
    import requests

    from dogxray.core.aws import Aws
    from dogxray.core.config import Settings
    from dogxray.lab import service
    from dogxray.local import Emulator

    with Emulator(port=0) as emulator, _quiet():
        aws = Aws(Settings.from_options(endpoint_url=emulator.endpoint_url))
        url = service.setup(aws, service.SetupOptions()).function_url
        session = requests.Session()

        def timed() -> float:
            begin = time.perf_counter()
            response = session.get(url, timeout=30)
            elapsed = (time.perf_counter() - begin) * 1000
            assert response.status_code == 200, response.status_code
            return elapsed

        cold = timed()
        warm = [timed() for _ in range(WARM_REQUESTS)]
    ordered = sorted(warm)  # the project's one percentile (nearest rank)
    p50, p95 = percentile(ordered, 50) or 0.0, percentile(ordered, 95) or 0.0
    print(f"cold request through the gateway: {cold:.0f} ms (handler init included)")
    print(
        f"warm requests ({WARM_REQUESTS}): p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
        f"max {max(warm):.1f} ms (target p50 < 50 ms: {'met' if p50 < 50 else 'NOT met'})"
    )


if __name__ == "__main__":
    dummy_env()
    bench_demo()
    bench_requests()
