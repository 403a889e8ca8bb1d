"""`test --open` and `report --open` when no web browser can be opened (headless, SSH):
one line on stderr saying what to open; nothing extra when a browser took it."""

from __future__ import annotations

import json
import webbrowser
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.core.config import TAG_LAB
from dogxray.lab import probe
from tests.helpers import TRUST

runner = CliRunner()
RESULT = probe.ProbeResult(True, 200, "image/jpeg", 10, "abc", "k.jpg", True, 12.0)


class Browser:
    """Stands in for `webbrowser.open`: records the URLs, answers `opened`."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.opened = False

    def open(self, url: str, *args: object, **kwargs: object) -> bool:
        self.asked.append(url)
        return self.opened


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Browser:
    fake = Browser()
    monkeypatch.setattr(webbrowser, "open", fake.open)
    return fake


@pytest.fixture
def lab_with_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A deployed function with a Function URL on in-process moto; probes are faked."""
    monkeypatch.setattr(probe, "run", lambda *a, **kw: [RESULT])
    with mock_aws():
        role = boto3.client("iam", region_name="us-east-1").create_role(
            RoleName="dog-photo-function-role", AssumeRolePolicyDocument=json.dumps(TRUST)
        )
        client = boto3.client("lambda", region_name="us-east-1")
        client.create_function(
            FunctionName="dog-photo-function",
            Runtime="python3.13",
            Role=role["Role"]["Arn"],
            Handler="lambda_function.lambda_handler",
            Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18},
            Tags={TAG_LAB: "dog-photo"},
        )
        url = client.create_function_url_config(FunctionName="dog-photo-function", AuthType="NONE")[
            "FunctionUrl"
        ]
        yield url


@pytest.mark.slow
@pytest.mark.parametrize("opened", [False, True])
def test_test_open_says_the_url_when_no_browser_opens(
    browser: Browser, lab_with_url: str, opened: bool
) -> None:
    browser.opened = opened
    result = runner.invoke(app, ["--region", "us-east-1", "test", "--open"])
    assert result.exit_code == 0, result.output
    assert browser.asked == [lab_with_url]
    said = f"no web browser could be opened; open {lab_with_url}\n"
    assert (said in result.stderr) is not opened
    assert said not in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("opened", [False, True])
def test_report_open_says_the_path_when_no_browser_opens(
    browser: Browser, tmp_path: Path, opened: bool
) -> None:
    browser.opened = opened
    page = tmp_path / "page.html"
    with mock_aws():
        result = runner.invoke(
            app, ["--region", "us-east-1", "report", "--file", str(page), "--open"]
        )
    assert result.exit_code == 0, result.output
    assert browser.asked == [page.resolve().as_uri()]
    assert result.stdout.splitlines()[-1] == str(page)
    said = f"no web browser could be opened; open {page.resolve()}\n"
    assert result.stderr.endswith(said) is not opened


@pytest.mark.slow
def test_report_open_on_a_fifo_opens_nothing(browser: Browser, tmp_path: Path) -> None:
    """A page written through a FIFO is not a file a browser can open: say so."""
    import os
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    with mock_aws():
        result = runner.invoke(
            app, ["--region", "us-east-1", "report", "--file", str(fifo), "--open"]
        )
    reader.join(timeout=10)
    assert result.exit_code == 0, result.output
    assert got and got[0].startswith(b"<!DOCTYPE html>")
    assert browser.asked == []
    assert result.stderr.endswith(
        f"note: nothing to open in a browser: {fifo} is not a regular file\n"
    )
    assert fifo.is_fifo()
