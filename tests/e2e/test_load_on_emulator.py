"""`dogxray load` against the lab on `dogxray local`: every request answered, counts and
percentiles consistent, cold starts read from the function's REPORT lines."""

from __future__ import annotations

import pytest

from tests.e2e.e2e_cli import Cli

pytestmark = pytest.mark.e2e


@pytest.mark.slow
def test_load_through_the_function_url(emulator_cli: Cli) -> None:
    cli = emulator_cli
    cli("--lab", "loadlab", "setup")
    try:
        doc = cli.json("--lab", "loadlab", "load", "--requests", "12", "--concurrency", "3")
        assert doc["url"].startswith("http://127.0.0.1:")
        assert doc["requests"] == 12 and doc["status"]["2xx"] == 12
        assert sum(doc["status"].values()) == 12
        lat = doc["latency_ms"]
        assert 0 < lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"]
        assert doc["cold_starts"] >= 1  # the first request met a new environment
        text = cli("--lab", "loadlab", "load", "--requests", "4", "--concurrency", "2")
        lines = text.stdout.splitlines()
        assert lines[0].startswith("4 requests at concurrency 2 in ")
        assert lines[1] == "status: 2xx 4  3xx 0  4xx 0  429 0  5xx 0  no answer 0"
        assert lines[3].startswith("cold starts: ")
    finally:
        cli("--lab", "loadlab", "cleanup", "--yes")


@pytest.mark.slow
def test_reserved_concurrency_throttles_and_is_removed(emulator_cli: Cli) -> None:
    """The Monitor lab's concurrency step: reserve 1, load at 4, see 429s; remove it."""

    def cli(*args: str):  # type: ignore[no-untyped-def]
        return emulator_cli("--lab", "reservedlab", *args)

    cli("setup")
    try:
        cli("configure", "--reserved-concurrency", "1")
        status = cli("status")
        assert "  reserved concurrency 1\n" in status.stdout
        doc = emulator_cli.json(
            "--lab", "reservedlab", "load", "--requests", "16", "--concurrency", "4"
        )
        assert doc["status"]["429"] > 0, doc["status"]
        assert doc["status"]["2xx"] + doc["status"]["429"] == 16
        cli("configure", "--no-reserved-concurrency")
        assert "reserved concurrency" not in cli("status").stdout
        doc = emulator_cli.json(
            "--lab", "reservedlab", "load", "--requests", "8", "--concurrency", "4"
        )
        assert doc["status"]["429"] == 0 and doc["status"]["2xx"] == 8
    finally:
        cli("cleanup", "--yes")
