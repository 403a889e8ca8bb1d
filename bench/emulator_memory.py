"""Memory of the emulator's main process under a long load (issue 15).

Starts `dogxray local --port 0` (its own process, its own TMPDIR), runs `dogxray setup`,
then sends `--requests` GETs (default 3,000) to the Function URL from `--concurrency`
threads (default 10) and prints the resident set size (VmRSS) of the emulator's main
process every `--every` requests. With the retention bounds (dogxray/local/retention.py)
the figure levels off once the bounds are reached; set DOGXRAY_LOCAL_KEEP_TRACES etc. in
the environment to try other bounds.
Run: .venv/bin/python bench/emulator_memory.py [--requests 3000] [--every 250]
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import dummy_env
from load import dogxray, start_emulator

MAX_REQUESTS = 20_000


def rss_mb(pid: int) -> float:
    """VmRSS of `pid` in MB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--every", type=int, default=250)
    args = parser.parse_args()
    count = min(args.requests, MAX_REQUESTS)
    env = dummy_env()
    with tempfile.TemporaryDirectory(prefix="dogxray-bench-memory-") as tmp:
        proc, exports = start_emulator(tmp, env)
        client = {**env, **exports, "NO_COLOR": "1", "TMPDIR": tmp}
        try:
            url = str(dogxray(client, "setup")["function_url"])
            assert url.startswith("http://127.0.0.1:")  # loopback only
            print(f"emulator pid {proc.pid}, {count} requests at concurrency {args.concurrency}")
            print(f"  after setup: {rss_mb(proc.pid):7.1f} MB")
            done, failed, lock = 0, 0, threading.Lock()
            started = time.monotonic()

            def shot(_: int) -> None:
                nonlocal done, failed
                try:
                    with urllib.request.urlopen(url, timeout=30) as reply:
                        reply.read()
                except OSError:
                    with lock:
                        failed += 1
                with lock:
                    done += 1
                    if done % args.every == 0 or done == count:
                        seconds = time.monotonic() - started
                        print(
                            f"  {done:6d} requests: {rss_mb(proc.pid):7.1f} MB"
                            f"  ({seconds:.0f} s, {failed} failed)",
                            flush=True,
                        )

            with ThreadPoolExecutor(args.concurrency) as pool:
                list(pool.map(shot, range(count)))
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
