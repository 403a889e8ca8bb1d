"""`cleanup`'s verdict is true as printed (issue 15 item 4): when it keeps a bucket another
lab's function still writes to, it does not say "nothing remains"; it lists what it kept,
why, and the commands that remove it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.lab import service
from dogxray.lab.models import SetupOptions

from .conftest import Lab, new_lab, tiny_zip

BUCKET = "lovely-dogs-123456789012-us-east-1"


def _setup(lab: Lab, **options: object) -> None:
    service.setup(lab.aws, SetupOptions(**options), zip_provider=tiny_zip, executor=lab.executor)


@pytest.mark.slow
def test_cleanup_lists_the_bucket_it_kept_why_and_how_to_remove_it(
    make_lab: Callable[..., Lab],
) -> None:
    first, other = make_lab(), new_lab(lab="other")
    _setup(first)
    _setup(other, bucket=BUCKET)  # lab other writes to lab dog-photo's bucket
    # The region comes from the environment here, so the hints do not repeat it.
    result = CliRunner().invoke(app, ["cleanup", "--yes"], env={"AWS_REGION": "us-east-1"})
    assert result.exit_code == 0, result.output
    assert "nothing remains" not in result.stdout
    assert result.stdout.endswith(
        "verified: everything deleted is gone; kept on purpose, still present:\n"
        f"  kept bucket {BUCKET}\n"
        "    why: lab other (function other-function) still write(s) to it\n"
        "    to remove it: `dogxray --lab other cleanup`, then `dogxray cleanup` again\n"
    )
    doc = CliRunner().invoke(app, ["cleanup", "--dry-run"], env={"AWS_REGION": "us-east-1"})
    assert doc.stdout == (
        "nothing to delete; kept, still present:\n"
        f"  kept bucket {BUCKET}\n"
        "    why: lab other (function other-function) still write(s) to it\n"
        "    to remove it: `dogxray --lab other cleanup`, then `dogxray cleanup` again\n"
    )
    # following the printed commands removes it
    assert CliRunner().invoke(app, ["--lab", "other", "cleanup", "--yes"]).exit_code == 0
    last = CliRunner().invoke(app, ["cleanup", "--yes"])
    assert last.exit_code == 0
    assert f"deleted bucket {BUCKET}\n" in last.stdout
    assert last.stdout.endswith("verified: nothing remains under the lab's names and tags\n")


def test_the_json_document_lists_what_was_kept(make_lab: Callable[..., Lab]) -> None:
    first, other = make_lab(), new_lab(lab="other")
    _setup(first)
    _setup(other, bucket=BUCKET)
    doc = service.cleanup(first.aws, executor=first.executor).to_json()
    assert doc["remaining"] == []
    assert doc["kept"] == [
        {
            "resource": f"bucket {BUCKET}",
            "why": "lab other (function other-function) still write(s) to it",
            "remove": "`dogxray --lab other cleanup`, then `dogxray cleanup` again",
        }
    ]
