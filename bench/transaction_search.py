"""Bench: `dogxray traces --stats` over 1,000 lab traces on a Transaction Search account
against the plain X-Ray path, both on the embedded emulator.

Each round starts the emulator (in this process) as one kind of account, puts the same
1,000 lab traces + 50 of another function into it with PutTraceSegments (on the
Transaction Search account their spans also reach the aws/spans log group; X-Ray indexes
1 % of them), then runs `dogxray traces --stats --since 10m` as a subprocess with
`--debug` to count its API calls. Rounds alternate between the two accounts; medians
and ranges.

Run: .venv/bin/python bench/transaction_search.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests" / "traces"))

from common import dummy_env, run_dogxray  # noqa: E402
from traces import LAB_TRACES, OTHER_TRACES, populate  # noqa: E402

from dogxray.local import Emulator  # noqa: E402


def run(endpoint: str, env: dict[str, str]) -> tuple[float, Counter[str], dict]:
    args = ("traces", "--stats", "--since", "10m", "-o", "json")
    wall, calls, out = run_dogxray(endpoint, env, *args)
    return wall, calls, json.loads(out)


def one_round(search: bool, env: dict[str, str]) -> tuple[float, Counter[str], dict]:
    with Emulator(port=0, transaction_search=search) as emulator:
        populate(emulator.endpoint_url)
        return run(emulator.endpoint_url, env)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    env = dummy_env()
    env["NO_COLOR"] = "1"
    walls: dict[bool, list[float]] = {False: [], True: []}
    seen: dict[bool, tuple[Counter[str], dict]] = {}
    for _ in range(rounds):
        for search in (False, True):
            wall, calls, stats = one_round(search, env)
            walls[search].append(wall)
            seen[search] = (calls, stats)
    print(f"{LAB_TRACES} lab traces + {OTHER_TRACES} others, {rounds} alternating rounds")
    for search, name in ((False, "X-Ray destination"), (True, "Transaction Search (1 %)")):
        calls, stats = seen[search]
        times = walls[search]
        listing = ", ".join(f"{op} {n}" for op, n in sorted(calls.items()))
        print(
            f"{name}: median {statistics.median(times):.2f} s "
            f"(range {min(times):.2f}-{max(times):.2f}); count={stats['count']} "
            f"faults={stats['faults']}; {sum(calls.values())} API calls: {listing}"
        )
    ratio = statistics.median(walls[True]) / statistics.median(walls[False])
    print(f"ratio Transaction Search / X-Ray: {ratio:.2f}")


if __name__ == "__main__":
    main()
