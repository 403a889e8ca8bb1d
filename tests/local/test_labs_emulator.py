"""`dogxray labs` and `cleanup --lab` on dogxray's emulator (issue 15, "See every lab"):
the emulator answers the tagging API as moto does; only this test's lab is touched (the
emulator is shared by the package's tests)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.core.aws import Aws
from dogxray.core.config import Settings
from dogxray.lab import service
from dogxray.lab.models import SetupOptions
from dogxray.local import Emulator
from tests.lab.conftest import tiny_zip

LAB = "labs-on-emulator"


@pytest.mark.slow
def test_labs_finds_a_lab_on_the_emulator_and_cleanup_lab_removes_it(emulator: Emulator) -> None:
    url = emulator.endpoint_url
    aws = Aws(Settings.from_options(lab=LAB, region="us-east-1", endpoint_url=url))
    service.setup(aws, SetupOptions(), zip_provider=tiny_zip)
    runner = CliRunner()
    listed = runner.invoke(app, ["--endpoint-url", url, "labs", "--output", "json"])
    assert listed.exit_code == 0, listed.output
    mine = [lab for lab in json.loads(listed.stdout)["labs"] if lab["lab"] == LAB]
    assert [(lab["state"], lab["function"], lab["problems"]) for lab in mine] == [
        ("complete", f"{LAB}-function", [])
    ]
    assert mine[0]["url"] and mine[0]["bucket"] and mine[0]["role"] and mine[0]["log_group"]
    done = runner.invoke(app, ["--endpoint-url", url, "cleanup", "--lab", LAB, "--yes"])
    assert done.exit_code == 0, done.output
    assert done.stdout.endswith("verified: nothing remains under the lab's names and tags\n")
    again = runner.invoke(app, ["--endpoint-url", url, "labs", "--output", "json"])
    assert LAB not in [lab["lab"] for lab in json.loads(again.stdout)["labs"]]
