"""Output of the lab commands: step progress and spinners on stderr, results on stdout."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from dogxray import render


def step(text: str) -> None:
    render.progress(f"- {text}", hang="  ")


@contextmanager
def spinner(text: str) -> Iterator[Callable[[str], None]]:
    """A spinner on stderr for a long wait; `update(text)` refreshes it (elapsed time)."""
    render.progress(f"  {text} ...")
    if not render.err.is_terminal:
        yield lambda _text: None
        return
    with render.err.status(text) as status:
        yield lambda new: status.update(new)


class ConsoleReporter:
    """What the lab commands and the demo hand the control plane (`dogxray.lab.report`)."""

    def progress(self, text: str) -> None:
        step(text)

    def spinner(self, text: str) -> AbstractContextManager[Callable[[str], None]]:
        return spinner(text)


REPORTER = ConsoleReporter()


def plan(steps: list[dict[str, Any]], *, what: str) -> None:
    """`--dry-run`: what would change (each step's message), on stdout."""
    messages = [st["message"] for st in steps]
    if not messages:
        render.data(f"{what}: nothing to do, the lab is up to date")
        return
    count = render.plural(len(messages), "change")
    render.data(f"{what}: {count} would be made (dry run, nothing changed):", hang="  ")
    for message in messages:
        render.data(f"  - {message}", hang="    ")


def setup_result(doc: dict[str, Any]) -> None:
    if not doc["changed"]:
        render.data(f"lab {doc['lab']} in {doc['region']}: everything is up to date")
    else:
        changed = ", ".join(doc["changed"])
        render.data(f"lab {doc['lab']} in {doc['region']}: changed {changed}", hang="  ")
    for key in ("bucket", "role_arn", "function_arn"):
        if doc.get(key):
            for line in render.labelled(f"  {key.replace('_', ' ')}:", doc[key]):
                render.data(line)
    if doc.get("function_url"):
        function_url(doc["function_url"])
        render.progress("next: `dogxray test` to prove it works")


def function_url(url: str) -> None:
    """The Function URL, whole (on its own line when the terminal is narrow)."""
    for line in render.labelled("Function URL:", url):
        render.data(line)


def stage_result(changed: list[str], *, done: str, unchanged: str) -> None:
    render.data(done if changed else unchanged)


def status(doc: dict[str, Any]) -> None:
    render.data(f"lab {doc['lab']} in {doc['region']}")
    for r in doc["resources"]:
        mark = (
            "ok" if r["exists"] and not r["drift"] else ("missing" if not r["exists"] else "drift")
        )
        row = f"  {r['kind']:<12} {{}}: {mark}"  # a name too long is cut (JSON has it whole)
        limit = render.width()
        room = None if limit is None else max(12, limit - len(row) + 2)
        render.data(row.format(render.cut(r["name"], room)))
        for d in r["drift"]:
            render.data(f"      {d}", hang="        ")
    if doc.get("function_url"):
        function_url(doc["function_url"])
    elif not any(r["exists"] for r in doc["resources"]):
        render.progress("nothing deployed yet: run `dogxray setup`")


def bucket_switch(doc: dict[str, Any]) -> None:
    render.data(doc["message"], hang="  ")
    if doc.get("hint"):
        render.progress(doc["hint"], hang="  ")


def cleanup_result(doc: dict[str, Any], *, dry_run: bool) -> None:
    if not doc["deleted"] and not doc["remaining"]:
        render.data("nothing to clean up: no resource of this lab exists")
        for note in doc["notes"]:
            render.progress(note, hang="  ")
        return
    verb = "would delete" if dry_run else "deleted"
    for item in doc["deleted"]:
        render.data(f"{verb} {item}", hang="  ")
    if not dry_run:
        if doc["remaining"]:
            render.data("still present under the lab's names and tags:")
            for item in doc["remaining"]:
                render.data(f"  {item}", hang="    ")
        else:
            render.data("verified: nothing remains under the lab's names and tags")
    for note in doc["notes"]:
        render.progress(note, hang="  ")


def injection(description: str) -> None:
    """`status` of a lab with fault injection on: a state, not drift."""
    render.data(f"injection: {description}; `dogxray inject --off` removes it", hang="  ")
