"""Two labs on one emulator: cleaning one up leaves the other whole and working; the map
of one gives its own figures of a bucket both write to, marked shared."""

from __future__ import annotations

import time

import pytest

from tests.e2e.e2e_cli import Cli

pytestmark = pytest.mark.e2e


@pytest.mark.slow
def test_cleanup_of_one_lab_leaves_the_other_working(emulator_cli: Cli) -> None:
    cli = emulator_cli
    first = cli.json("--lab", "pets-a", "setup")
    second = cli.json("--lab", "pets-b", "setup")
    assert first["bucket"] != second["bucket"]
    assert first["role_arn"] != second["role_arn"]
    try:
        cli("--lab", "pets-a", "cleanup", "--yes")
        status = cli.json("--lab", "pets-b", "status")
        assert all(r["exists"] and not r["drift"] for r in status["resources"]), status
        [probe] = cli.json("--lab", "pets-b", "test")
        assert probe["ok"] and probe["status"] == 200 and probe["s3_match"]
        gone = cli.json("--lab", "pets-a", "status")
        assert not any(r["exists"] for r in gone["resources"]), gone
    finally:
        cli("--lab", "pets-b", "cleanup", "--yes")


def _bucket_node(doc: dict) -> dict:
    return next(n for n in doc["nodes"] if n["name"] == "aws-bucket")


@pytest.mark.slow
def test_map_of_two_labs_through_one_bucket(emulator_cli: Cli) -> None:
    """Both labs broken to `aws-bucket`, one request each: lab map-a's map (text and
    JSON) and `map --node` give map-a's own figures (1 request, 1 fault) and mark the
    bucket shared, with both labs' requests as all callers (issue 15 item 5)."""
    cli = emulator_cli
    labs = ("map-a", "map-b")
    try:
        for lab in labs:
            cli("--lab", lab, "setup")
            cli("--lab", lab, "break-bucket")
            assert cli("--lab", lab, "test", check=False).returncode == 1
        deadline = time.monotonic() + 60  # the segments reach X-Ray through the daemon
        while True:
            doc = cli.json("--lab", "map-a", "map")
            names = {n["name"] for n in doc["nodes"]}
            every = (_bucket_node(doc)["all_callers"] or {}) if "aws-bucket" in names else {}
            if every.get("requests") == 2 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert doc["source"] == "service-graph"
        bucket = _bucket_node(doc)
        assert (bucket["stats"]["requests"], bucket["stats"]["fault"]) == (1, 1)
        assert bucket["shared"] is True
        assert (bucket["all_callers"]["requests"], bucket["all_callers"]["fault"]) == (2, 2)
        [edge] = [e for e in doc["edges"] if e["target"] == bucket["id"]]
        assert (edge["stats"]["requests"], edge["stats"]["fault"]) == (1, 1)

        lines = cli("--lab", "map-a", "map").stdout.splitlines()
        at = lines.index("aws-bucket (AWS::S3::Bucket)  shared")
        assert lines[at + 1].startswith("  1 req  ")
        assert lines[at + 3].endswith("  ok 0  error 0  throttle 0  fault 1")
        assert lines[at + 4].startswith("  all callers: 2 req  avg ")
        assert lines[at + 4].endswith(" ms  fault 2")
        assert "  -> aws-bucket  1 req  avg " in "\n".join(lines)

        panel = cli.json("--lab", "map-a", "map", "--node", "aws-bucket")
        assert panel["node"]["stats"]["requests"] == 1 and panel["status"]["fault"] == 1
        assert (panel["node"]["shared"], panel["node"]["all_callers"]["requests"]) == (True, 2)
    finally:
        for lab in labs:
            cli("--lab", lab, "cleanup", "--yes", check=False)
