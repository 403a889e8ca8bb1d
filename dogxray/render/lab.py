"""Output of the lab commands: step progress and spinners on stderr, results on stdout."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

from dogxray import render
from dogxray.core.config import Tracer

if TYPE_CHECKING:
    from dogxray.lab.labs import AllLabsCleanup, LabList
    from dogxray.lab.results import BucketSwitch, CleanupResult, Kept, LabResult, LabStatus


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
    """What the lab commands and the demo hand the control plane (`dogxray.lab.progress`)."""

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


def setup_result(doc: LabResult) -> None:
    if not doc.changed:
        render.data(f"lab {doc.lab} in {doc.region}: everything is up to date")
    else:
        changed = ", ".join(doc.changed)
        render.data(f"lab {doc.lab} in {doc.region}: changed {changed}", hang="  ")
    for label, value in (
        ("bucket", doc.bucket),
        ("role arn", doc.role_arn),
        ("function arn", doc.function_arn),
    ):
        if value:
            for line in render.labelled(f"  {label}:", value):
                render.data(line)
    if doc.function_url:
        function_url(doc.function_url)
        render.progress(f"next: `{render.command('test')}` to prove it works")


def function_url(url: str) -> None:
    """The Function URL, whole (on its own line when the terminal is narrow)."""
    for line in render.labelled("Function URL:", url):
        render.data(line)


def stage_result(changed: list[str], *, done: str, unchanged: str) -> None:
    render.data(done if changed else unchanged)


def status(doc: LabStatus) -> None:
    render.data(f"lab {doc.lab} in {doc.region}")
    for r in doc.resources:
        mark = "ok" if r.exists and not r.drift else ("missing" if not r.exists else "drift")
        row = f"  {r.kind:<12} {{}}: {mark}"  # a name too long is cut (JSON has it whole)
        limit = render.width()
        room = None if limit is None else max(12, limit - len(row) + 2)
        render.data(row.format(render.cut(r.name, room)))
        for d in r.drift:
            render.data(f"      {d}", hang="        ")
    where = {
        "XRay": "X-Ray",
        "CloudWatchLogs": "CloudWatch Logs (Transaction Search)",
        None: "a destination that could not be read",
    }
    if doc.tracer is not None:
        described = Tracer(doc.tracer).described
        render.data(f"  function traced with {described} (--tracer {doc.tracer})")
    reserved = doc.reserved_concurrency
    if reserved is not None:
        stopped = (
            " (the function is stopped: every invocation is throttled)" if not reserved else ""
        )
        render.data(f"  reserved concurrency {reserved}{stopped}")
    if doc.alarm is not None:
        from dogxray.render import alarm

        alarm.status_line(doc.alarm)
    render.data(f"  traces go to {where.get(doc.trace_destination, doc.trace_destination)}")
    if doc.function_url:
        function_url(doc.function_url)
    elif not any(r.exists for r in doc.resources):
        render.progress(f"nothing deployed yet: run `{render.command('setup')}`")


def message(text: str, hint: str | None) -> None:
    """A result's sentence on stdout, its hint on stderr."""
    render.data(text, hang="  ")
    if hint:
        render.progress(hint, hang="  ")


def bucket_switch(doc: BucketSwitch) -> None:
    message(doc.message, doc.hint)


def _wrapped(text: str, indent: str, rest: str | None = None) -> None:
    """`text` on stdout after `indent`, wrapped to the terminal (long names stay whole)."""
    render.data(indent + text, hang=indent + "  " if rest is None else rest)


def kept_resources(kept: list[Kept]) -> None:
    """What cleanup left in place on purpose: each resource, why, how to remove it."""
    for item in kept:
        _wrapped(f"kept {item.resource}", "  ")
        _wrapped(f"why: {item.why}", "    ")
        if item.remove:
            _wrapped(f"to remove it: {item.remove}", "    ")


def _own_notes(doc: CleanupResult) -> list[str]:
    """The notes that are not a kept resource's (those are listed with the resource)."""
    kept_notes = {k.note for k in doc.kept}
    return [n for n in doc.notes if n not in kept_notes]


def cleanup_result(doc: CleanupResult, *, dry_run: bool, notes_too: bool = True) -> None:
    """The verdict is true as printed: "nothing remains" only when nothing of the lab was
    kept either; kept resources are listed (stdout) with why and how to remove them."""
    kept = doc.kept
    notes = _own_notes(doc) if notes_too else []
    if not doc.deleted and not doc.remaining:
        if kept:
            render.data("nothing to delete; kept, still present:")
            kept_resources(kept)
        else:
            render.data("nothing to clean up: no resource of this lab exists")
        for note in notes:
            render.progress(note, hang="  ")
        return
    verb = "would delete" if dry_run else "deleted"
    for item in doc.deleted:
        render.data(f"{verb} {item}", hang="  ")
    if dry_run:
        if kept:
            render.data("would keep:")
            kept_resources(kept)
    elif doc.remaining:
        render.data("still present under the lab's names and tags:")
        for item in doc.remaining:
            render.data(f"  {item}", hang="    ")
        if kept:
            render.data("kept on purpose:")
            kept_resources(kept)
    elif kept:
        render.data("verified: everything deleted is gone; kept on purpose, still present:")
        kept_resources(kept)
    else:
        render.data("verified: nothing remains under the lab's names and tags")
    for note in notes:
        render.progress(note, hang="  ")


def injection(description: str) -> None:
    """`status` of a lab with fault injection on: a state, not drift."""
    render.data(
        f"injection: {description}; `{render.command('inject --off')}` removes it", hang="  "
    )


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "age unknown"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} old"
    return f"{int(seconds)}s old"


def labs(doc: LabList, *, hint: bool = True) -> None:
    """`dogxray labs`: one block per lab, each line within 80 columns."""
    where = ", ".join(doc.regions) if len(doc.regions) <= 3 else f"{len(doc.regions)} regions"
    found = doc.labs
    if not found:
        render.data(f"no dogxray lab in {where}")
    else:
        count = f"{len(found)} lab" + ("" if len(found) == 1 else "s")
        render.data(f"{count} in {where}:")
    for lab in found:
        render.data("")
        _wrapped(f"{lab.lab} in {lab.region}: {lab.state}, {_age(lab.age_s)}", "")
        for label, value in (
            ("function", lab.function),
            ("role", lab.role),
            ("bucket", lab.bucket),
            ("log group", lab.log_group),
            ("URL", lab.url),
        ):
            render.data(f"  {label:<10}{value or '-'}")
        for problem in lab.problems:
            _wrapped(problem, "  ! ", "    ")
    for region in doc.skipped:
        render.progress(f"skipped {region}: not enabled for this account, or not readable")
    if found and hint:
        render.progress(
            "remove one with `dogxray --lab NAME cleanup`, every lab of a region with "
            f"`{render.command('cleanup --all-labs', lab=False)}`"
        )


def all_labs_cleanup(doc: AllLabsCleanup, *, dry_run: bool) -> None:
    """`cleanup --all-labs`: each lab's cleanup, under the lab's name."""
    notes: dict[str, None] = {}
    for lab, result in doc.results.items():
        render.data("")
        render.data(f"lab {lab}:")
        cleanup_result(result, dry_run=dry_run, notes_too=False)
        notes.update(dict.fromkeys(_own_notes(result)))
    for note in notes:
        render.progress(note)
    for lab, why in doc.skipped.items():
        render.progress(f"skipped lab {lab!r}: {why}")
