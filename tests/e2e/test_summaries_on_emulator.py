"""`traces` on the emulator reads X-Ray's summaries: a listing is one filtered
GetTraceSummaries, and its rows are the rows the documents give."""

from __future__ import annotations

import re
import time

import pytest

from tests.e2e.e2e_cli import Cli

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

LAB = ("--lab", "summaries")


def api_calls(stderr: str) -> list[str]:
    return re.findall(r"\[api\] (\S+) ->", stderr)


def test_listing_from_summaries_matches_the_documents(emulator_cli: Cli) -> None:
    cli = emulator_cli
    cli(*LAB, "setup")
    for _ in range(3):  # Lambda traces the first request of each second (and 5 %)
        cli(*LAB, "test")
        time.sleep(1.1)
    cli(*LAB, "break-bucket")
    time.sleep(1.1)
    cli(*LAB, "test", check=False)
    cli(*LAB, "fix-bucket")
    try:
        listing = cli(*LAB, "--debug", "traces", "--limit", "20")
        calls = api_calls(listing.stderr)
        assert len(calls) <= 3 and "xray.BatchGetTraces" not in calls, calls
        assert calls.count("xray.GetTraceSummaries") == 1, calls
        assert "call_dog_api" not in listing.stdout  # no subsegment columns without documents
        assert "save_dog_to_s3: NoSuchBucket" in listing.stdout

        quick = cli.json(*LAB, "traces", "--no-subsegments")["traces"]
        full = cli.json(*LAB, "traces")["traces"]  # JSON reads the documents by default
        assert len(quick) == 4 and all(t["subsegments"] is not None for t in full)
        # the same rows, subsegments null; X-Ray's summaries give durations in whole ms
        for mine, theirs in zip(quick, full, strict=True):
            assert abs(mine.pop("duration_ms") - theirs.pop("duration_ms")) <= 1
        assert quick == [{**t, "subsegments": None} for t in full]

        [fault] = cli.json(*LAB, "traces", "--errors", "--no-subsegments")["traces"]
        assert (fault["status"], fault["fault"]) == (502, True)
        assert fault["root_cause"]["exception"] == "NoSuchBucket"
        assert fault["root_cause"]["segment"] == "save_dog_to_s3"
    finally:
        cli(*LAB, "cleanup", "--yes")
