"""Output of `alarm` and the alarm's line in `status`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dogxray import render

if TYPE_CHECKING:
    from dogxray.lab.alarm import AlarmResult


def describe(doc: AlarmResult) -> str:
    """ "Errors Sum >= 1 in 1 of 1 period(s) of 60 s (missing data: not breaching)"."""
    return (
        f"Errors Sum >= {doc.threshold} in {doc.datapoints} of {doc.evaluation_periods} "
        f"period(s) of {doc.period_s} s (missing data: not breaching)"
    )


def state(doc: AlarmResult) -> str:
    return f"{doc.state} ({doc.reason})" if doc.reason else str(doc.state)


def result(doc: AlarmResult, *, off: bool = False) -> None:
    if doc.dry_run:
        what = "removal" if off else "alarm"
        if not doc.changed:
            render.data(f"{what}: nothing to do (dry run)")
        for message in doc.changed:
            render.data(f"  - {message} (dry run)")
        return
    if off:
        render.data(
            f"alarm {doc.name} and its topic removed" if doc.changed else "no alarm of this lab"
        )
        return
    render.data(f"alarm {doc.name}: {describe(doc)}", hang="  ")
    render.data(f"  state: {state(doc)}", hang="    ")
    if doc.topic_arn:
        render.data(f"  notifies {doc.topic_arn}", hang="    ")
    for email, status in doc.subscriptions.items():
        render.data(f"  {email}: {status}", hang="    ")
        if status != "confirmed":
            render.progress(f"confirm the subscription: open the link AWS emailed to {email}")
    if doc.history:
        render.data("  history (newest first):")
        for when, kind, summary in doc.history:
            render.data(f"    {when[:19]}  {kind:<11}  {summary}", hang="      ")
    if not doc.changed:
        render.progress("the alarm was already so: nothing changed")


def status_line(doc: AlarmResult | None) -> None:
    """`status`: the lab's alarm and its state, when there is one."""
    if doc is not None:
        render.data(f"  alarm {doc.name}: {state(doc)}", hang="    ")
