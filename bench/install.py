"""What a regular install costs: size of a fresh virtual environment, number of
distributions, `pip install` time from a warm cache, and `dogxray --help` start-up.

Compares this checkout (plain `pip install .`, which runs every command) with an earlier
revision (default: the last one before the install work), both plain and with the
`[local]` extra it needed for the emulator. Needs the package index (or a warm pip cache).

    python bench/install.py [--before REV] [--now-only | --plain-before]

`--plain-before` compares the plain installs only (no `[local]` row), e.g. before and
after the OpenTelemetry packages: `--before 7fe8ce6^ --plain-before`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from common import export_revision  # noqa: E402

BASE = {"pip", "setuptools", "wheel"}


def _du_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def _install(spec: str, where: Path) -> tuple[float, float, int]:
    """Install `spec` twice (the first warms pip's cache); the second is timed."""
    for attempt in ("warm", "timed"):
        venv = where / attempt
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        start = time.perf_counter()
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", spec],
            check=True,
            stderr=subprocess.DEVNULL,
        )
        elapsed = time.perf_counter() - start
    listing = subprocess.run(
        [str(venv / "bin" / "pip"), "list", "--format=freeze", "--disable-pip-version-check"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    dists = [line for line in listing if line.split("==")[0].lower() not in BASE]
    return _du_mb(venv), elapsed, len(dists)


def _help_ms(venv: Path) -> float:
    runs = []
    for _ in range(7):
        start = time.perf_counter()
        subprocess.run([str(venv / "bin" / "dogxray"), "--help"], check=True, capture_output=True)
        runs.append((time.perf_counter() - start) * 1000)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", default="89e40c3", help="the earlier revision")
    parser.add_argument("--now-only", action="store_true", help="only this checkout's row")
    parser.add_argument(
        "--plain-before", action="store_true", help="the earlier plain install, not [local]"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dogxray-bench-install-") as tmp:
        work = Path(tmp)
        old = export_revision(args.before, work / "before-src")
        if args.now_only:
            cases = []
        elif args.plain_before:
            cases = [(f"before ({args.before}), plain `pip install .`", str(old))]
        else:
            cases = [
                (f"before ({args.before}), plain: no emulator, no setup", str(old)),
                (f"before ({args.before}) with [local]", f"{old}[local]"),
            ]
        cases.append(("now, plain `pip install .`: every command", str(REPO)))
        print(f"{'install':58} {'MB':>7} {'dists':>6} {'pip s':>6} {'--help ms':>10}")
        for i, (label, spec) in enumerate(cases):
            size, seconds, count = _install(spec, work / f"case{i}")
            help_ms = _help_ms(work / f"case{i}" / "timed")
            print(f"{label:58} {size:7.0f} {count:6d} {seconds:6.1f} {help_ms:10.0f}")


if __name__ == "__main__":
    main()
