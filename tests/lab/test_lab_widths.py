"""The lab commands fit the terminal (issue 15, item 23) with a long lab name (long
bucket, role, function and log-group names, long ARNs): `setup --dry-run`, `status`
(at 80 and at 60 columns), `cleanup --dry-run` and `cleanup`. Prose wraps between
words; a name in a status row is cut with an ellipsis; an ARN or URL is never cut (on
its own line, which only a value longer than the whole line exceeds). `--output json`
keeps every name whole (`status`, `setup --dry-run`)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from dogxray.app import app

from .conftest import tiny_zip

LAB = "workshop-team-07-a-rather-long-lab-name"  # 39 of the 42 characters a lab may have
FUNCTION = f"{LAB}-function"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--lab", LAB, *args])
    return result.exit_code, result.stdout, result.stderr


def over(text: str, columns: int) -> list[str]:
    """Lines wider than `columns`, except a single token (an ARN, a URL) alone on its
    line: those are never cut, the terminal folds them."""
    return [line for line in text.splitlines() if len(line) > columns and " " in line.strip()]


@pytest.fixture
def deployed(moto: None, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setattr("dogxray.lab.service.build_zip", tiny_zip)
    code, out, err = run("setup", "--output", "json")
    assert code == 0, err
    doc: dict[str, str] = json.loads(out)
    assert run("break-bucket")[0] == 0  # drift: a long message under the function row
    return doc


@pytest.mark.slow
def test_status_fits_80_and_60_columns(
    deployed: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for columns in (80, 60):
        monkeypatch.setenv("COLUMNS", str(columns))
        code, out, _ = run("status")
        assert code == 0
        assert over(out, columns) == []
        lines = out.splitlines()
        assert lines[-2:] in (
            ["Function URL:", f"  {deployed['function_url']}"],
            ["Function URL:", deployed["function_url"]],  # longer than the line: whole
        )
        bucket_row = next(line for line in lines if line.startswith("  bucket "))
        assert bucket_row.endswith("…: ok") and len(bucket_row) == columns
    monkeypatch.setenv("COLUMNS", "60")
    doc = json.loads(run("status", "--output", "json")[1])
    assert {r["name"] for r in doc["resources"]} >= {deployed["bucket"], FUNCTION}
    assert doc["function_url"] == deployed["function_url"]


@pytest.mark.slow
def test_setup_and_cleanup_dry_run_fit_80_columns(
    deployed: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run("setup", "--dry-run")  # repairs the broken bucket: one change
    assert code == 0 and over(out, 80) == []
    assert out.startswith(f"setup of lab {LAB}: 1 change would be made\n  (dry run, nothing")

    code, out, _ = run("cleanup", "--dry-run")
    assert code == 0 and over(out, 80) == []
    assert f"would delete function {FUNCTION}" in out.splitlines()
    flat = " ".join(out.split())
    assert f"would delete inline policy {FUNCTION}-policy of role {LAB}-function-role-" in flat
    assert f"would delete bucket {deployed['bucket']}" in flat

    code, out, err = run("cleanup", "--yes")
    assert code == 0 and over(out, 80) == [] and over(err, 80) == []
    assert out.splitlines()[-1] == "verified: nothing remains under the lab's names and tags"


@pytest.mark.slow
def test_json_does_not_depend_on_the_width(
    deployed: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = []
    for columns in ("60", "200"):
        monkeypatch.setenv("COLUMNS", columns)
        docs.append(json.loads(run("setup", "--dry-run", "--output", "json")[1]))
    assert docs[0] == docs[1]
    [step] = docs[0]["plan"]
    assert deployed["bucket"] in step["message"]  # whole, however narrow the terminal
