"""Bench: `dogxray traces --stats` over 1,000 traces vs the plain AWS CLI approach.

Puts 1,000 realistic lab traces (success and break-bucket faults, real AWS's embedded
form and moto's separate-subsegment form) plus 50 traces of another service into a
moto server on loopback, then measures, each as a subprocess: wall time, peak memory
(ru_maxrss from wait4) and API calls of
  1. `dogxray --endpoint-url URL traces --stats --since 10m --output json`
  2. `aws xray get-trace-summaries`, then `aws xray batch-get-traces` 5 ids at a time,
     sequentially (what a user would script).
  3. `dogxray analyze --since 10m --output json` (the triage comparison; target < 2 s).
Targets: dogxray < 3 s for 1,000 traces; wall-time ratio dogxray / AWS CLI < 0.2.
Run: .venv-test/bin/python bench/traces.py [--no-aws-cli]
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests" / "traces"))

from common import aws_cli, dummy_env, moto_server  # noqa: E402
from tracedocs import load, rebase, separate  # noqa: E402

LAB_TRACES = 1000
OTHER_TRACES = 50


def kinds() -> list[dict]:
    """Ten recordings in lab proportions: 6 successes (3 embedded, 3 separate), 4 faults."""
    ok = load("success_embedded")
    ok_separate = dict(ok, documents=separate(ok["documents"]))
    fault, denied = load("fault_separate"), load("fault_embedded_accessdenied")
    denied_separate = dict(denied, documents=separate(denied["documents"]))
    return [ok, ok_separate] * 3 + [fault, fault, denied, denied_separate]


def populate(endpoint: str, lab: int = LAB_TRACES, others: int = OTHER_TRACES) -> None:
    """`lab` lab traces and `others` of another function (every 21st), evenly over the
    last 9 minutes."""
    import boto3

    client = boto3.client("xray", endpoint_url=endpoint, region_name="us-east-1")
    mix, other = kinds(), load("other_service")
    start = time.time() - 540
    docs: list[str] = []
    total = lab + others
    for serial in range(1, total + 1):
        recording = other if serial % 21 == 0 and serial // 21 <= others else None
        recording = recording or mix[serial % len(mix)]
        _, trace_docs = rebase(recording, start=start + serial * 472.5 / total, serial=serial)
        docs.extend(trace_docs)
        if len(docs) >= 400 or serial == total:
            client.put_trace_segments(TraceSegmentDocuments=docs)
            docs = []


# Peak memory: ru_maxrss of a child is polluted by the parent's pages at fork time (this
# process holds a moto server), so each measured program reports its own VmHWM (the
# high-water RSS of its own address space, fresh after exec) when it exits.
PEAK = """
import atexit, runpy, sys
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            sys.stderr.write("PEAK_KIB=" + line.split()[1] + "\\n")
atexit.register(peak)
target, sys.argv = sys.argv[1], sys.argv[1:]
if target.startswith("-m"):
    runpy.run_module(target[2:], run_name="__main__", alter_sys=True)
else:
    runpy.run_path(target, run_name="__main__")
"""


def measured(python: str, target: str, args: list[str], env: dict[str, str]) -> tuple:
    """Run `python target args` (target: a script path or -mMODULE); (wall s, peak KiB,
    stdout, stderr, exit code)."""
    began = time.perf_counter()
    proc = subprocess.run(
        [python, "-c", PEAK, target, *args], capture_output=True, text=True, env=env
    )
    wall = time.perf_counter() - began
    peaks = [int(line[9:]) for line in proc.stderr.splitlines() if line.startswith("PEAK_KIB=")]
    return wall, (peaks or [0])[-1], proc.stdout, proc.stderr, proc.returncode


def run_dogxray(endpoint: str, env: dict[str, str]) -> tuple[float, int, int, dict]:
    args = ["--endpoint-url", endpoint, "--debug", "traces", "--stats", "--since", "10m"]
    wall, rss, out, err, code = measured(sys.executable, "-mdogxray", [*args, "-o", "json"], env)
    if code != 0:
        raise SystemExit(f"dogxray failed ({code}):\n{err}")
    calls = err.count("[api] ")  # threads may share a line of stderr
    return wall, rss, calls, json.loads(out)


def run_analyze(endpoint: str, env: dict[str, str]) -> tuple[float, int, dict]:
    args = ["--endpoint-url", endpoint, "analyze", "--since", "10m", "-o", "json"]
    wall, rss, out, err, code = measured(sys.executable, "-mdogxray", args, env)
    if code != 0:
        raise SystemExit(f"dogxray analyze failed ({code}):\n{err}")
    return wall, rss, json.loads(out)


def run_aws_cli(endpoint: str, env: dict[str, str]) -> tuple[float, int, int, int]:
    script = aws_cli()[0]
    python = str(Path(script).parent / "python")
    aws = ["--endpoint-url", endpoint, "--output", "json"]
    end = datetime.now(timezone.utc)
    begin = end - timedelta(minutes=10)
    wall, peak, calls = 0.0, 0, 0
    window = ["--start-time", begin.isoformat(), "--end-time", end.isoformat()]
    spent, rss, out, err, code = measured(
        python, script, [*aws, "xray", "get-trace-summaries", *window], env
    )
    if code != 0:
        raise SystemExit(f"aws get-trace-summaries failed:\n{err}")
    wall, peak, calls = wall + spent, max(peak, rss), calls + 1
    ids = [s["Id"] for s in json.loads(out)["TraceSummaries"]]
    for i in range(0, len(ids), 5):
        batch = ["xray", "batch-get-traces", "--trace-ids", *ids[i : i + 5]]
        spent, rss, out, err, code = measured(python, script, [*aws, *batch], env)
        if code != 0:
            raise SystemExit(f"aws batch-get-traces failed:\n{err}")
        wall, peak, calls = wall + spent, max(peak, rss), calls + 1
        json.loads(out)  # what a script would go on to parse
    return wall, peak, calls, len(ids)


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the moto server's request log
    with_cli = "--no-aws-cli" not in sys.argv
    env = dummy_env()
    env["NO_COLOR"] = "1"
    if with_cli:
        aws_cli()  # install outside the measurement
    with moto_server() as endpoint:
        began = time.perf_counter()
        populate(endpoint)
        print(
            f"put {LAB_TRACES} lab traces + {OTHER_TRACES} others into moto in "
            f"{time.perf_counter() - began:.1f} s"
        )
        d_wall, d_rss, d_calls, stats = run_dogxray(endpoint, env)
        print(
            f"dogxray traces --stats: {d_wall:.2f} s wall, {d_rss / 1024:.1f} MiB peak RSS, "
            f"{d_calls} API calls; count={stats['count']} faults={stats['faults']} "
            f"save_dog_to_s3 p95={stats['subsegments']['save_dog_to_s3']['p95_ms']} ms"
        )
        n_wall, n_rss, found = run_analyze(endpoint, env)
        print(
            f"dogxray analyze: {n_wall:.2f} s wall, {n_rss / 1024:.1f} MiB peak RSS; "
            f"{found['traces']} traces, {found['faulty']['count']} faulty, top exception "
            f"{found['faulty']['exceptions'][0]['type']}  "
            f"[target < 2 s: {'met' if n_wall < 2 else 'MISSED'}]"
        )
        if not with_cli:
            return
        a_wall, a_rss, a_calls, a_traces = run_aws_cli(endpoint, env)
        print(
            f"AWS CLI (summaries + batch-get-traces x5, sequential): {a_wall:.2f} s wall, "
            f"{a_rss / 1024:.1f} MiB peak RSS (largest single call), {a_calls} API calls, "
            f"{a_traces} traces (unscoped, not analysed)"
        )
    print(
        f"ratio dogxray / AWS CLI: wall {d_wall / a_wall:.3f} (target < 0.2), "
        f"peak memory {d_rss / a_rss:.2f}, API calls {d_calls / a_calls:.2f}"
    )
    print(f"target < 3 s for {LAB_TRACES} traces: {'met' if d_wall < 3 else 'MISSED'}")


if __name__ == "__main__":
    main()
