"""`alarm`: the Monitor lab's CloudWatch alarm on the function's errors (and its SNS
topic), made, shown and removed through the lab's executor; what `status` and `metrics`
show of it. The resources, their observation and the steps are in `alarm_plan`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dogxray.core.aws import Aws, ClientError
from dogxray.core.config import TAG_LAB
from dogxray.lab.alarm_plan import (
    PENDING,
    AlarmOptions,
    Observed,
    alarm_name,
    observe,
    observe_alarm,
    off_steps,
    plan,
    refuse_foreign,
)
from dogxray.lab.executor import Executor
from dogxray.lab.models import Step
from dogxray.lab.progress import SILENT, Reporter
from dogxray.lab.run import DisplayOnly, run_steps

__all__ = ["AlarmLine", "AlarmOptions", "AlarmResult", "apply", "current", "line", "off"]


@dataclass
class AlarmResult:
    """What `alarm` did or would do, and the alarm as it stands afterwards."""

    name: str
    exists: bool
    state: str | None
    reason: str | None
    threshold: int | None
    period_s: int | None
    evaluation_periods: int | None
    datapoints: int | None
    topic_arn: str | None
    subscriptions: dict[str, str]  # email -> "pending confirmation" | "confirmed"
    changed: list[str]  # the steps' messages (run, or planned with --dry-run)
    dry_run: bool = False
    plan: list[dict[str, Any]] = field(default_factory=list)
    # DescribeAlarmHistory, newest first: (when, StateUpdate | Action, summary); None: the
    # endpoint keeps no history (plain moto)
    history: list[tuple[str, str, str]] | None = None

    def to_json(self) -> dict[str, Any]:
        doc = {
            "alarm": self.name,
            "exists": self.exists,
            "state": self.state,
            "reason": self.reason,
            "threshold": self.threshold,
            "period_s": self.period_s,
            "evaluation_periods": self.evaluation_periods,
            "datapoints_to_alarm": self.datapoints,
            "topic_arn": self.topic_arn,
            "subscriptions": [{"email": e, "status": s} for e, s in self.subscriptions.items()],
            "changed": self.changed,
            "history": None
            if self.history is None
            else [{"time": t, "type": k, "summary": m} for t, k, m in self.history],
        }
        if self.dry_run:
            doc.update(dry_run=True, plan=self.plan)
        return doc


def _subscription_status(aws: Aws, arn: str) -> str:
    """SNS lists an unconfirmed email subscription as `PendingConfirmation` (or, asked
    with ReturnSubscriptionArn, gives its ARN and `PendingConfirmation=true`)."""
    if not arn.startswith("arn:"):
        return PENDING
    attrs = aws.client("sns").get_subscription_attributes(SubscriptionArn=arn)
    pending = (attrs.get("Attributes") or {}).get("PendingConfirmation") == "true"
    return PENDING if pending else "confirmed"


def result_of(aws: Aws, seen: Observed, changed: list[str], *, detail: bool = True) -> AlarmResult:
    """The alarm as `seen`; without `detail` (for `status`, which shows neither) the
    subscriptions' states and the history are not read."""
    a, p = seen.alarm, seen.alarm.params
    notifies = a.exists and seen.topic.arn in (p.get("AlarmActions") or [])
    subs = (
        {e: _subscription_status(aws, arn) for e, arn in seen.topic.subscriptions.items()}
        if notifies and detail
        else {}
    )
    threshold = p.get("Threshold")
    return AlarmResult(
        name=alarm_name(aws.settings),
        exists=a.exists,
        state=a.state,
        reason=a.reason,
        threshold=int(threshold) if threshold is not None else None,
        period_s=p.get("Period"),
        evaluation_periods=p.get("EvaluationPeriods"),
        datapoints=p.get("DatapointsToAlarm") or p.get("EvaluationPeriods"),
        topic_arn=seen.topic.arn if notifies else None,
        subscriptions=subs,
        changed=changed,
        history=history(aws) if a.exists and detail else [],
    )


HISTORY_SHOWN = 6


def history(aws: Aws) -> list[tuple[str, str, str]] | None:
    """The alarm's latest state changes and notifications (DescribeAlarmHistory)."""
    try:
        found = aws.client("cloudwatch").describe_alarm_history(
            AlarmName=alarm_name(aws.settings),
            MaxRecords=HISTORY_SHOWN,
            ScanBy="TimestampDescending",
        )
    except (ClientError, NotImplementedError):  # moto keeps no alarm history
        return None
    return [
        (str(item["Timestamp"]), item["HistoryItemType"], item["HistorySummary"])
        for item in found.get("AlarmHistoryItems", [])
    ]


def apply(
    aws: Aws,
    options: AlarmOptions,
    *,
    dry_run: bool = False,
    executor: Executor | None = None,
    reporter: Reporter = SILENT,
) -> AlarmResult:
    """Create or update the alarm (and topic, subscription) as `options` ask."""
    from dogxray.lab.observe import deployed

    o = options.check()
    deployed(aws)  # the lab's function must exist: the alarm watches it
    seen = observe(aws)
    refuse_foreign(seen, aws.settings)
    return _run(aws, seen, plan(aws.settings, o, seen), dry_run, executor, reporter)


def off(
    aws: Aws,
    *,
    dry_run: bool = False,
    executor: Executor | None = None,
    reporter: Reporter = SILENT,
) -> AlarmResult:
    """Remove the lab's alarm and topic (`alarm --off`); a foreign one is left alone."""
    seen = observe(aws)
    refuse_foreign(seen, aws.settings)
    return _run(aws, seen, off_steps(aws.settings, seen), dry_run, executor, reporter)


def _run(
    aws: Aws,
    seen: Observed,
    steps: list[Step],
    dry_run: bool,
    executor: Executor | None,
    reporter: Reporter,
) -> AlarmResult:
    """Run the steps (or, with `dry_run`, list them) and report the alarm as it then
    stands: observed again after a real run, as observed before a dry one."""
    runner = DisplayOnly() if dry_run else executor or Executor(aws, reporter=reporter)
    done = run_steps(runner, steps)
    messages = [st.message for st in done.steps]
    result = result_of(aws, seen if dry_run else observe(aws), messages)
    if dry_run:
        result.dry_run, result.plan = True, [st.to_json() for st in steps]
    return result


def current(aws: Aws) -> AlarmResult | None:
    """The lab's alarm for `status` (None: there is none of this lab's)."""
    seen = observe(aws)
    if not seen.alarm.exists or seen.alarm.tags.get(TAG_LAB) != aws.settings.lab:
        return None
    return result_of(aws, seen, [], detail=False)


@dataclass(frozen=True)
class AlarmLine:
    """What `metrics` draws: the lab's alarm's threshold, period and state."""

    name: str
    threshold: float
    period_s: int
    state: str | None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "alarm": self.name,
            "threshold": self.threshold,
            "period_s": self.period_s,
            "state": self.state,
            "reason": self.reason,
        }


def line(aws: Aws) -> AlarmLine | None:
    """The lab's alarm for `metrics` (one or two reads); None when there is none of this
    lab's, or the identity may not read alarms."""
    try:
        seen = observe_alarm(aws)
    except ClientError:
        return None
    if not seen.exists or seen.tags.get(TAG_LAB) != aws.settings.lab:
        return None
    return AlarmLine(
        name=alarm_name(aws.settings),
        threshold=float(seen.params.get("Threshold") or 0),
        period_s=int(seen.params.get("Period") or 60),
        state=seen.state,
        reason=seen.reason,
    )
