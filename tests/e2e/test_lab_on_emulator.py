"""The lab's stages through the ordinary commands, pointed at `dogxray local` by
AWS_ENDPOINT_URL; and `demo --local`, the README's first command."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.e2e_cli import CHROMIUM, CHROMIUM_FLAGS, Cli, base_env
from tests.lines import LineReader

pytestmark = pytest.mark.e2e


@pytest.mark.slow
def test_demo_local_checks_every_stage(tmp_path: Path) -> None:
    result = Cli(base_env(tmp_path))("demo", "--local")
    assert "demo passed: every stage checked" in result.stdout
    for stage in ("1-3", "4", "5a", "5b", "5c", "5d", "6"):
        assert f"Stage {stage}:" in result.stderr
    assert "FAILED" not in result.stdout
    assert "root cause: save_dog_to_s3 raised NoSuchBucket" in result.stderr
    assert "nothing is left under the lab's names and tags" in result.stderr
    # the HTML report, in a temporary directory of its own that outlives the demo
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("HTML report: "), result.stdout
    page = Path(last.removeprefix("HTML report: "))
    assert page.parent.parent == tmp_path and page.parent.name.startswith("dogxray-report-")
    html = page.read_text()
    assert 'id="service-map"' in html and 'class="wf waterfall"' in html
    assert "NoSuchBucket" in html


@pytest.mark.slow
def test_demo_local_stopped_by_sigterm_cleans_up_and_leaves_no_files(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "dogxray", "demo", "--local"],
        env=base_env(tmp_path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        seen = []
        # One reader to the end of the stream: `communicate()` after a partial read reads
        # the pipe beneath the line buffer and loses what that buffer already holds.
        reader = LineReader(proc.stderr)
        sent = False
        while line := reader.readline(timeout=60):
            seen.append(line)
            if line.startswith("Stage 4:") and not sent:  # the lab exists, the emulator is
                proc.send_signal(signal.SIGTERM)  # busy; once: a second one would kill it
                sent = True
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = "".join(seen)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "Stage 6: Clean up" in err and "nothing is left under the lab's names" in err
    assert list(tmp_path.glob("dogxray-local-*")) == [], "the emulator's temp dir was left"


@pytest.mark.slow
def test_lab_stages_through_the_endpoint(emulator_cli: Cli) -> None:
    cli = emulator_cli
    lab = cli.json("setup")
    assert lab["function_url"].startswith("http://127.0.0.1:")
    assert lab["lab"] == "dog-photo" and lab["region"] == "us-east-1"
    assert cli.json("setup")["changed"] == []  # idempotent

    [ok] = cli.json("test")  # always an array of results, one per request
    assert ok["ok"] and ok["status"] == 200 and ok["s3_match"]
    assert ok["content_type"].startswith("image/")

    cli("break-bucket")
    broken = cli("test", "--output", "json", check=False)
    assert broken.returncode == 1
    assert '"status": 502' in broken.stdout
    assert "502" in broken.stderr

    faults = [t for t in cli.json("traces", "--errors")["traces"] if t["fault"]]
    assert faults, "the failed request left no fault trace"
    cause = faults[0]["root_cause"]
    assert cause["segment"] == "save_dog_to_s3" and cause["exception"] == "NoSuchBucket"
    detail = cli.json("trace", faults[0]["id"])
    assert detail["root_cause"] == cause
    waterfall = cli("trace", faults[0]["id"]).stdout
    assert "save_dog_to_s3" in waterfall and "NoSuchBucket" in waterfall

    cli("fix-bucket")
    assert cli.json("test")[0]["ok"]
    stats = cli.json("traces", "--stats")
    assert stats["count"] >= 3 and stats["faults"] >= 1

    cli("cleanup", "--yes")
    status = cli.json("status")
    assert [r for r in status["resources"] if r["exists"]] == []
    assert cli("cleanup", "--yes").returncode == 0  # nothing left: a no-op


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed (`apt-get install chromium`; .ci/run installs it)",
)
def test_browser_renders_the_dog(emulator_cli: Cli, tmp_path: Path) -> None:
    emulator_cli("--lab", "browser", "setup")
    url = emulator_cli.json("--lab", "browser", "status")["function_url"]
    page = tmp_path / "page.html"
    page.write_text(
        "<html><body><img id=dog src='" + url + "' "
        "onload=\"document.body.setAttribute('data-width', this.naturalWidth)\" "
        "onerror=\"document.body.setAttribute('data-width', 'error')\"></body></html>"
    )
    result = subprocess.run(
        [
            CHROMIUM,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**emulator_cli.env, "HOME": str(tmp_path)},
    )
    emulator_cli("--lab", "browser", "cleanup", "--yes")
    assert 'data-width="' in result.stdout, result.stderr[-2000:]
    width = result.stdout.split('data-width="', 1)[1].split('"', 1)[0]
    assert width.isdigit() and int(width) > 0, f"image did not render: {width}"


@pytest.mark.slow
def test_demo_local_triage_names_the_injected_cause(tmp_path: Path) -> None:
    result = Cli(base_env(tmp_path))("demo", "--local", "--triage")
    assert "demo passed: every stage checked" in result.stdout
    for stage in ("7a", "7b", "7c", "7d", "7e", "7f", "7g", "6"):
        assert f"Stage {stage}:" in result.stderr
    assert "failed with InjectedFailure on injected_fault" in result.stderr
    assert "injection off; the Function URL answers HTTP 200" in result.stderr
    # the Monitor lab's alarm: fired by the injected failures, cleared by a quiet minute
    assert "alarm dog-photo-function-errors: ALARM: Threshold Crossed: 1 out of the last" in (
        result.stderr
    )
    assert "alarm dog-photo-function-errors: OK: Threshold Crossed:" in result.stderr
    assert "Alarm updated from OK to ALARM; Alarm updated from ALARM to OK" in result.stderr
    assert "deleted: alarm dog-photo-function-errors" in result.stderr
