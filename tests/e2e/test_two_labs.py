"""Two labs on one emulator: cleaning one up leaves the other whole and working."""

from __future__ import annotations

import pytest
from e2e_cli import Cli

pytestmark = pytest.mark.e2e


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
        probe = cli.json("--lab", "pets-b", "test")
        assert probe["ok"] and probe["status"] == 200 and probe["s3_match"]
        gone = cli.json("--lab", "pets-a", "status")
        assert not any(r["exists"] for r in gone["resources"]), gone
    finally:
        cli("--lab", "pets-b", "cleanup", "--yes")
