"""Bench: `dogxray map` over 1,000 traces on the emulator, through its GetServiceGraph.

Starts the embedded emulator in this process (moto server + dogxray's X-Ray service),
puts the `bench/traces.py` mix (1,000 lab traces: successes and break-bucket faults in
both document forms, plus 50 of another service) into its X-Ray, then measures, each as
a subprocess: wall time and peak memory (VmHWM) of
  1. `dogxray map --since 10m -o json`  (GetServiceGraph pages: `"source": "service-graph"`)
  2. the same map built from the traces (the patch detached: moto's empty graph),
  3. `dogxray map --node aws-bucket -o json`  (always from the traces).
Target: `map` under 1 s.
Run: .venv-test/bin/python bench/service_graph.py
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests" / "traces"))

from common import dummy_env  # noqa: E402
from traces import LAB_TRACES, measured, populate  # noqa: E402


def dogxray(endpoint: str, env: dict[str, str], *args: str) -> tuple[float, int, dict]:
    wall, peak, out, err, code = measured(
        sys.executable, "-mdogxray", ["--endpoint-url", endpoint, *args], env
    )
    if code != 0:
        raise SystemExit(f"dogxray {' '.join(args)} failed ({code}):\n{err}")
    return wall, peak, json.loads(out)


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    env = dummy_env()
    env.update(NO_COLOR="1", COLUMNS="100")
    from dogxray.local import Emulator

    with Emulator(port=0) as emu:
        endpoint = emu.endpoint_url
        populate(endpoint)
        print(f"put {LAB_TRACES} lab traces (+50 others) into the emulator's X-Ray")
        wall, peak, *_ = measured(sys.executable, "-mdogxray", ["--help"], env)
        print(f"floor, dogxray --help (no boto3): {wall:.2f} s wall, {peak / 1024:.1f} MiB peak")
        for run in ("first", "again"):
            wall, peak, doc = dogxray(endpoint, env, "map", "--since", "10m", "-o", "json")
            edges = sum(e["stats"]["requests"] for e in doc["edges"] if e["source"] == 0)
            print(
                f"dogxray map ({run}): {wall:.2f} s wall, {peak / 1024:.1f} MiB peak; source "
                f"{doc['source']}, {len(doc['nodes'])} nodes, {len(doc['edges'])} edges, "
                f"{edges} client requests (target < 1 s: {'met' if wall < 1 else 'MISSED'})"
            )
        emu.state.graph = False  # moto's empty graph: `map` falls back to the traces
        wall, peak, doc = dogxray(endpoint, env, "map", "--since", "10m", "-o", "json")
        print(
            f"dogxray map (from traces): {wall:.2f} s wall, {peak / 1024:.1f} MiB peak; source "
            f"{doc['source']}, {doc['traces']} traces, {len(doc['nodes'])} nodes, "
            f"{len(doc['edges'])} edges"
        )
        emu.state.graph = True
        wall, peak, node = dogxray(endpoint, env, "map", "--node", "aws-bucket", "-o", "json")
        print(
            f"dogxray map --node aws-bucket: {wall:.2f} s wall, {peak / 1024:.1f} MiB peak; "
            f"{node['node']['stats']['requests']} requests, exceptions "
            + ", ".join(f"{e['type']} x{e['count']}" for e in node["exceptions"])
        )


if __name__ == "__main__":
    main()
