"""Bench: `dogxray traces` from X-Ray's trace summaries vs `sam traces`, both against the
same embedded emulator; then the document-reading commands at 5,000 traces, and the
same commands on a plain moto server (the fallback path: moto's summaries give no row).

Setup: the emulator (in this process) gets 1,000 lab traces + 50 of another function
over the last 9 minutes (bench/traces.py's mix: successes and break-bucket faults, both
document forms), with PutTraceSegments. Every command runs as a subprocess; dogxray
with `--debug` to count its API calls. Rounds alternate dogxray and SAM; medians and
ranges.
  1. `dogxray traces --since 30m --limit 1000` (text) vs `sam traces --start-time
     <30 min ago>` (SAM CLI: one paginated GetTraceSummaries, then BatchGetTraces for
     every 5 ids, one after the other; its calls are counted from the same summaries).
     Target: ratio < 0.25.
  2. `dogxray traces --limit 20`: target <= 3 API calls.
  3. At 5,000 lab traces + 250 others: `traces --stats` (target < 5 s), `analyze`,
     `report --output FILE`.
  4. A moto server with the 1,000 + 50: `traces --limit 1000`, `--limit 20`, `--stats`.

`--before REV` runs dogxray at revision REV too (its tree exported with git archive, on
this environment's dependencies), alternating with the current code in every round.

Run: .venv-test/bin/python bench/summaries.py [--rounds 5] [--no-sam] [--before REV]
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests" / "traces"))

from common import dummy_env, export_revision, moto_server, run_dogxray, sam_cli  # noqa: E402
from traces import LAB_TRACES, OTHER_TRACES, populate  # noqa: E402

from dogxray.local import Emulator  # noqa: E402

Result = tuple[float, Counter[str], str]


def sam(endpoint: str, env: dict[str, str]) -> tuple[float, int]:
    """Wall time of `sam traces` over the last 30 minutes and the traces it printed."""
    start = (datetime.now(timezone.utc) - timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M:%S")
    began = time.perf_counter()
    proc = subprocess.run(
        [*sam_cli(), "traces", "--start-time", start, "--region", "us-east-1"],
        capture_output=True,
        text=True,
        env={**env, "AWS_ENDPOINT_URL": endpoint, "SAM_CLI_TELEMETRY": "0"},
    )
    wall = time.perf_counter() - began
    if proc.returncode != 0:
        raise SystemExit(f"sam traces failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return wall, proc.stdout.count("XRay Event")


def sam_calls(endpoint: str) -> int:
    """What `sam traces` calls over the window: its paginated GetTraceSummaries (every
    trace, unscoped) plus one BatchGetTraces per 5 complete traces (SAM CLI's
    xray_event_puller)."""
    import boto3

    client = boto3.client("xray", endpoint_url=endpoint, region_name="us-east-1")
    end = datetime.now(timezone.utc)
    pages = ids = 0
    for page in client.get_paginator("get_trace_summaries").paginate(
        StartTime=end - timedelta(minutes=30), EndTime=end, TimeRangeType="TraceId"
    ):
        pages += 1
        ids += sum(1 for s in page["TraceSummaries"] if not s.get("IsPartial"))
    return pages + math.ceil(ids / 5)


def spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f} s (range {min(values):.2f}-{max(values):.2f})"


def calls_text(calls: Counter[str]) -> str:
    return f"{sum(calls.values())} API calls ({', '.join(f'{n} {k}' for k, n in calls.items())})"


def versions(before: Path | None) -> dict[str, Path | None]:
    """The dogxray runs to compare: now, and the --before revision's tree when given."""
    return {"now": None} | ({"before": before} if before else {})


def listing_vs_sam(
    endpoint: str, env: dict[str, str], rounds: int, with_sam: bool, before: Path | None
) -> None:
    mine: dict[str, list[float]] = {label: [] for label in versions(before)}
    theirs: list[float] = []
    for _ in range(rounds):  # alternating, so drift hits all alike
        for label, source in versions(before).items():
            wall, calls, out = run_dogxray(
                endpoint, env, "traces", "--since", "30m", "--limit", "1000", source=source
            )
            mine[label].append(wall)
            if label == "now":
                now_calls, now_out = calls, out
        if with_sam:
            wall, printed = sam(endpoint, env)
            theirs.append(wall)
    rows = sum(1 for line in now_out.splitlines() if line[:2] == "20")
    for label, walls in mine.items():
        print(
            f"dogxray traces --since 30m --limit 1000 ({label}): {spread(walls)}; "
            + (f"{rows} rows; {calls_text(now_calls)}" if label == "now" else "")
        )
    if with_sam:
        print(
            f"sam traces --start-time <30 min ago>:     {spread(theirs)}; {printed} traces "
            f"printed; {sam_calls(endpoint)} API calls (derived)"
        )
        for label, walls in mine.items():
            ratio = statistics.median(walls) / statistics.median(theirs)
            print(
                f"ratio dogxray ({label}) / sam (medians): {ratio:.3f} "
                f"[target < 0.25: {'met' if ratio < 0.25 else 'MISSED'}]"
            )
    _, calls, _ = run_dogxray(endpoint, env, "traces", "--limit", "20")
    total = sum(calls.values())
    print(
        f"dogxray traces --limit 20: {calls_text(calls)} "
        f"[target <= 3: {'met' if total <= 3 else 'MISSED'}]"
    )


def compare(
    endpoint: str,
    env: dict[str, str],
    rounds: int,
    before: Path | None,
    label: str,
    commands: dict[str, tuple[str, ...]],
    target_s: dict[str, float] | None = None,
) -> None:
    """Each command `rounds` times, now and --before alternating; medians and ranges."""
    targets = target_s or {}
    for name, args in commands.items():
        walls: dict[str, list[float]] = {version: [] for version in versions(before)}
        for _ in range(rounds):
            for version, source in versions(before).items():
                wall, calls, _ = run_dogxray(endpoint, env, *args, source=source)
                walls[version].append(wall)
                if version == "now":
                    now_calls = calls
        for version, times in walls.items():
            target = ""
            if version == "now" and name in targets:
                met = statistics.median(times) < targets[name]
                target = f" [target < {targets[name]:g} s: {'met' if met else 'MISSED'}]"
            detail = f"; {calls_text(now_calls)}" if version == "now" else ""
            print(f"{label} dogxray {name} ({version}): {spread(times)}{detail}{target}")


def documents_at(endpoint: str, env: dict[str, str], rounds: int, before: Path | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        page = str(Path(tmp) / "report.html")
        commands = {
            "traces --stats": ("traces", "--stats", "--since", "30m"),
            "analyze": ("analyze", "--since", "30m"),
            "report": ("report", "--since", "30m", "--output", page),
        }
        compare(endpoint, env, rounds, before, "5,000 traces:", commands, {"traces --stats": 5})


def moto_fallback(env: dict[str, str], rounds: int, before: Path | None) -> None:
    with moto_server() as endpoint:
        populate(endpoint)
        commands = {
            " ".join(args): args
            for args in (
                ("traces", "--since", "30m", "--limit", "1000"),
                ("traces", "--limit", "20"),
                ("traces", "--stats", "--since", "30m"),
            )
        }
        compare(endpoint, env, rounds, before, "plain moto:", commands)


PHASES = ("listing", "documents", "moto")


def phase(name: str, rounds: int, with_sam: bool, before: Path | None) -> None:
    """One setup in a process of its own: the emulator and moto keep their state in
    module globals, so phases in one process would see each other's traces."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    env = dummy_env()
    env.update(NO_COLOR="1", COLUMNS="200")
    if name == "listing":
        with Emulator(port=0) as emulator:
            began = time.perf_counter()
            populate(emulator.endpoint_url)
            print(
                f"emulator: put {LAB_TRACES} lab traces + {OTHER_TRACES} others in "
                f"{time.perf_counter() - began:.1f} s"
            )
            for source in versions(before).values():  # warm caches
                run_dogxray(emulator.endpoint_url, env, "traces", "--limit", "1", source=source)
            if with_sam:
                sam(emulator.endpoint_url, env)
            listing_vs_sam(emulator.endpoint_url, env, rounds, with_sam, before)
    elif name == "documents":
        with Emulator(port=0) as emulator:
            began = time.perf_counter()
            populate(emulator.endpoint_url, LAB_TRACES * 5, OTHER_TRACES * 5)
            print(
                f"emulator: put {LAB_TRACES * 5} lab traces + {OTHER_TRACES * 5} others in "
                f"{time.perf_counter() - began:.1f} s"
            )
            documents_at(emulator.endpoint_url, env, rounds, before)
    else:
        moto_fallback(env, rounds, before)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-sam", action="store_true")
    parser.add_argument("--before", help="also run dogxray at this revision, alternating")
    parser.add_argument("--phase", choices=PHASES)
    parser.add_argument("--before-tree", type=Path, help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.phase:
        phase(opts.phase, opts.rounds, not opts.no_sam, opts.before_tree)
        return
    if not opts.no_sam:
        sam_cli()  # installed outside the measurement
    print(f"{os.cpu_count()} CPUs; {opts.rounds} rounds each")
    with tempfile.TemporaryDirectory() as tmp:
        # Both tools run from byte-compiled modules, as after `pip install` (this
        # machine sets PYTHONDONTWRITEBYTECODE); the cache lives in a temporary directory.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        env["DOGXRAY_LOCAL_KEEP_TRACES"] = str((LAB_TRACES + OTHER_TRACES) * 5)
        extra = ["--no-sam"] if opts.no_sam else []
        if opts.before:
            tree = export_revision(opts.before, Path(tmp) / "before")
            print(f"before: {opts.before} ({tree})")
            extra += ["--before-tree", str(tree)]
        for name in PHASES:
            args = ["--phase", name, "--rounds", str(opts.rounds), *extra]
            subprocess.run([sys.executable, __file__, *args], env=env, check=True, cwd=ROOT)


if __name__ == "__main__":
    main()
