"""Bench: stage 5 commands over 1,000 traces and their 1,000 invocations' logs.

Puts the `bench/traces.py` mix (1,000 lab traces: successes and break-bucket faults in
both document forms, plus 50 of another service) into a moto server on loopback, and
the matching Lambda log lines (START, the function's JSON line, `[ERROR]` + traceback
for faults, END, REPORT; 10 log streams) into CloudWatch Logs; then measures, each as a
subprocess: wall time and peak memory (VmHWM) of
  1. `dogxray map --since 10m`                  (built from the traces on an endpoint)
  2. `dogxray map --node aws-bucket --since 10m`
  3. `dogxray logs --since 1h --output json`
  4. `dogxray report --since 1h --file <temp>/report.html` (and the page's size)
and, beside them, the AWS CLI: `aws logs filter-log-events` (all pages) for the same
logs, and `aws xray get-service-graph` (moto answers it with an empty graph).
Targets: `map` under 1 s, `report` under 3 s and 2 MB, memory bounded by the traces kept.
Run: .venv-test/bin/python bench/stage5.py
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests" / "traces"))
sys.path.insert(0, str(ROOT / "tests" / "logs"))

from common import aws_cli, dummy_env, moto_server  # noqa: E402
from lambdalogs import invocation  # noqa: E402
from traces import LAB_TRACES, measured, populate  # noqa: E402

STREAMS = 10


def put_logs(endpoint: str) -> int:
    import boto3

    client = boto3.client("logs", endpoint_url=endpoint, region_name="us-east-1")
    group = "/aws/lambda/dog-photo-function"
    client.create_log_group(logGroupName=group)
    start = int((time.time() - 540) * 1000)
    events = 0
    for stream in range(STREAMS):
        client.create_log_stream(logGroupName=group, logStreamName=f"s{stream}")
        batch = []
        for serial in range(stream, LAB_TRACES, STREAMS):
            rid = f"{serial:08x}-1111-2222-3333-444455556666"
            lines = invocation(rid, failed=serial % 10 >= 6, cold=serial < STREAMS)
            at = start + serial * 450
            batch.extend({"timestamp": at + i, "message": m} for i, m in enumerate(lines))
        client.put_log_events(logGroupName=group, logStreamName=f"s{stream}", logEvents=batch)
        events += len(batch)
    return events


def dogxray(endpoint: str, env: dict[str, str], *args: str) -> tuple[float, int, str]:
    wall, peak, out, err, code = measured(
        sys.executable, "-mdogxray", ["--endpoint-url", endpoint, *args], env
    )
    if code != 0:
        raise SystemExit(f"dogxray {' '.join(args)} failed ({code}):\n{err}")
    return wall, peak, out


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    env = dummy_env()
    env.update(NO_COLOR="1", COLUMNS="100")
    try:
        cli = aws_cli()
    except Exception as exc:  # the AWS CLI comes from the package index
        print(f"(no AWS CLI comparison: {exc})")
        cli = None
    with moto_server() as endpoint:
        populate(endpoint)
        events = put_logs(endpoint)
        print(f"put {LAB_TRACES} lab traces (+50 others) and {events} log events into moto")
        wall, peak, out = dogxray(endpoint, env, "map", "--since", "10m", "-o", "json")
        doc = json.loads(out)
        print(
            f"dogxray map: {wall:.2f} s wall, {peak / 1024:.1f} MiB peak; {doc['traces']} "
            f"traces, {len(doc['nodes'])} nodes (target < 1 s: {'met' if wall < 1 else 'MISSED'})"
        )
        wall, peak, out = dogxray(endpoint, env, "map", "--node", "aws-bucket", "-o", "json")
        node = json.loads(out)
        print(
            f"dogxray map --node aws-bucket: {wall:.2f} s wall, {peak / 1024:.1f} MiB peak; "
            f"{node['node']['stats']['requests']} requests, exceptions "
            + ", ".join(f"{e['type']} x{e['count']}" for e in node["exceptions"])
        )
        wall, peak, out = dogxray(endpoint, env, "logs", "--since", "1h", "-o", "json")
        logs = json.loads(out)
        print(
            f"dogxray logs --since 1h: {wall:.2f} s wall, {peak / 1024:.1f} MiB peak; "
            f"{len(logs['events'])} events, {len(logs['invocations'])} invocations"
        )
        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp) / "report.html"
            wall, peak, out = dogxray(endpoint, env, "report", "--since", "1h", "-f", str(target))
            size = target.stat().st_size
            print(
                f"dogxray report --since 1h: {wall:.2f} s wall, {peak / 1024:.1f} MiB peak; "
                f"{out.splitlines()[0]}; {size / 1024:,.0f} KiB "
                f"(targets < 3 s: {'met' if wall < 3 else 'MISSED'}, "
                f"< 2 MB: {'met' if size < 2 * 1024 * 1024 else 'MISSED'})"
            )
        if cli is None:
            return
        script = cli[0]
        python = str(Path(script).parent / "python")
        since = int((datetime.now(timezone.utc) - timedelta(hours=1)).timestamp() * 1000)
        base = ["--endpoint-url", endpoint, "--output", "json"]
        for label, args in (
            (
                "aws logs filter-log-events (all pages)",
                [
                    "logs",
                    "filter-log-events",
                    "--log-group-name",
                    "/aws/lambda/dog-photo-function",
                    "--start-time",
                    str(since),
                ],
            ),
            (
                "aws xray get-service-graph",
                [
                    "xray",
                    "get-service-graph",
                    "--start-time",
                    (datetime.now(timezone.utc) - timedelta(minutes=10)).isoformat(),
                    "--end-time",
                    datetime.now(timezone.utc).isoformat(),
                ],
            ),
        ):
            wall, peak, out, err, code = measured(python, script, [*base, *args], env)
            if code != 0:
                raise SystemExit(f"{label} failed:\n{err}")
            size = len(json.loads(out).get("events") or json.loads(out).get("Services") or [])
            print(f"{label}: {wall:.2f} s wall, {peak / 1024:.1f} MiB peak; {size} items, raw")


if __name__ == "__main__":
    main()
