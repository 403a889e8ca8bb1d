"""Benchmark of `dogxray load` through the emulator, with `ab` side by side.

Starts `dogxray local --port 0` (its own process, its own TMPDIR), runs `dogxray setup`,
then at concurrency 1, 5 and 10: `dogxray load` once from the current state (the cold
starts of scaling out are counted from the REPORT lines), once more warm, and `ab`
(Debian's apache2-utils: `apt-get install apache2-utils`) against the same Function URL,
loopback only and a bounded count, to show how much of the figure is the client.

Targets (issue 10): warm p50 under 20 ms at concurrency 1; no queueing collapse at 10
(warm p99 under 10x p50).
Run: .venv-test/bin/python bench/load.py [--requests 200]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import dummy_env

CONCURRENCY = (1, 5, 10)
MAX_REQUESTS = 2000


def start_emulator(tmp: str, env: dict[str, str]) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """`dogxray local --port 0` in the background; its export lines as a dict."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "dogxray", "local", "--port", "0"],
        env={**env, "TMPDIR": tmp, "NO_COLOR": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    exports: dict[str, str] = {}
    deadline = time.monotonic() + 60
    while len(exports) < 6 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").strip().partition("=")
            exports[name] = value
    if "AWS_ENDPOINT_URL" not in exports:
        proc.kill()
        raise SystemExit("`dogxray local` did not start")
    return proc, exports


def dogxray(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "dogxray", *args, "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return json.loads(done.stdout)


def ab(url: str, requests: int, concurrency: int) -> dict[str, float] | str:
    """`ab -k` figures: requests/s, p50, p99 (ms), non-2xx; or why there are none."""
    exe = shutil.which("ab")
    if exe is None:
        return "ab not found: `apt-get install apache2-utils` for the side-by-side"
    assert url.startswith("http://127.0.0.1:")  # loopback only
    done = subprocess.run(
        [exe, "-q", "-k", "-s", "30", "-n", str(requests), "-c", str(concurrency), url],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        return f"ab failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}"
    out = done.stdout

    def number(pattern: str) -> float:
        match = re.search(pattern, out, re.MULTILINE)
        return float(match[1]) if match else 0.0

    return {
        "rps": number(r"^Requests per second:\s+([\d.]+)"),
        "p50": number(r"^\s+50%\s+(\d+)"),
        "p99": number(r"^\s+99%\s+(\d+)"),
        "non_2xx": number(r"^Non-2xx responses:\s+(\d+)"),
        # ab counts a body length unlike the first one's as failed: the lab's dog images
        # differ in size, so only connect/receive/exception failures are failures here
        "failed": sum(number(rf"{kind}: (\d+)") for kind in ("Connect", "Receive", "Exceptions")),
    }


def environments(emulator_pid: int) -> tuple[int, int]:
    """The emulator's execution environments now: (count, total RSS in MB), from /proc."""
    count, rss_kb = 0, 0
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(fields["PPid"]) == emulator_pid and b"bootstrap.py" in cmdline:
            count += 1
            rss_kb += int(fields.get("VmRSS", "0 kB").split()[0])
    return count, rss_kb // 1024


def row(label: str, rps: float, p50: float | None, p99: float | None, extra: str) -> str:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    return f"  {label:<22} {rps:8.1f} req/s  p50 {ms(p50):>7} ms  p99 {ms(p99):>7} ms  {extra}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    count = min(parser.parse_args().requests, MAX_REQUESTS)
    env = dummy_env()
    with tempfile.TemporaryDirectory(prefix="dogxray-bench-load-") as tmp:
        proc, exports = start_emulator(tmp, env)
        client = {**env, **exports, "NO_COLOR": "1", "TMPDIR": tmp}
        try:
            setup = dogxray(client, "setup")
            url = setup["function_url"]
            print(f"{count} requests per run, emulator limit 10, Function URL {url}")
            for concurrency in CONCURRENCY:
                print(f"concurrency {concurrency}:")
                for label in ("dogxray load (scaling)", "dogxray load (warm)"):
                    doc = dogxray(
                        client, "load", "--requests", str(count), "--concurrency", str(concurrency)
                    )
                    lat = doc["latency_ms"]
                    extra = (
                        f"cold starts {doc['cold_starts']}, 429 {doc['status']['429']}, "
                        f"2xx {doc['status']['2xx']}"
                    )
                    print(row(label, doc["throughput_rps"], lat["p50"], lat["p99"], extra))
                figures = ab(str(url), count, concurrency)
                if isinstance(figures, str):
                    print(f"  {figures}")
                else:
                    extra = f"non-2xx {figures['non_2xx']:.0f}, failed {figures['failed']:.0f}"
                    p50, p99 = figures["p50"], figures["p99"]
                    print(row("ab -k (warm)", figures["rps"], p50, p99, extra))
                live, rss = environments(proc.pid)
                print(f"  live execution environments: {live}, {rss} MB resident in all")
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
