"""The `alarm` command's resources as desired state, observation and steps: a CloudWatch
alarm on the lab function's `AWS/Lambda` `Errors` and an SNS topic with an email
subscription, named from the lab's function and tagged `dogxray:lab`; one that carries
another tag, or none, is never changed or deleted. `off_steps` is what `alarm --off`
and `cleanup` run. PutMetricAlarm replaces an alarm whole, so it runs only when
something differs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from dogxray.core.aws import Aws, ClientError
from dogxray.core.config import TAG_LAB, Settings
from dogxray.core.errors import DogxrayError
from dogxray.lab.models import Action, Resource, Step

NAMESPACE = "AWS/Lambda"
METRIC = "Errors"
STATISTIC = "Sum"
COMPARISON = "GreaterThanOrEqualToThreshold"
MISSING = "notBreaching"  # a minute without invocations is not an error
MAX_SPAN_S = 86_400  # CloudWatch: period x evaluation periods is at most one day
# An address SNS would take: something@domain.tld, no spaces.
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
PENDING = "pending confirmation"


def alarm_name(settings: Settings) -> str:
    return f"{settings.function_name}-errors"


def topic_name(settings: Settings) -> str:
    return f"{settings.function_name}-alarms"


@dataclass(frozen=True)
class AlarmOptions:
    """`alarm`'s options, validated (`check`)."""

    threshold: int = 1
    period_s: int = 60
    evaluation_periods: int = 1
    datapoints: int | None = None  # None: every evaluation period must breach
    email: str | None = None

    def check(self) -> AlarmOptions:
        if self.threshold < 1:
            raise DogxrayError.usage(
                f"threshold {self.threshold}: the alarm would fire with no errors at all",
                hint="give 1 or more errors per period (the lab uses 1)",
            )
        if self.evaluation_periods < 1:
            raise DogxrayError.usage(
                f"--evaluation-periods {self.evaluation_periods} is below 1",
                hint="give 1 or more periods",
            )
        if self.period_s * self.evaluation_periods > MAX_SPAN_S:
            raise DogxrayError.usage(
                "the alarm would look back more than a day (period x evaluation periods)",
                hint="CloudWatch allows at most 86,400 s: shorten --period or --evaluation-periods",
            )
        if self.datapoints is not None and not 1 <= self.datapoints <= self.evaluation_periods:
            raise DogxrayError.usage(
                f"--datapoints {self.datapoints} is not between 1 and the "
                f"{self.evaluation_periods} evaluation periods",
                hint="datapoints to alarm counts breaching periods among the evaluated ones",
            )
        if self.email is not None and not _EMAIL_RE.match(self.email):
            raise DogxrayError.usage(
                f"invalid email address {self.email!r}", hint="e.g. --email you@example.com"
            )
        return self


@dataclass(frozen=True)
class ObservedAlarm:
    exists: bool
    arn: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    state: str | None = None
    reason: str | None = None
    params: dict[str, Any] = field(default_factory=dict)  # what PutMetricAlarm would set


@dataclass(frozen=True)
class ObservedTopic:
    exists: bool
    arn: str
    tags: dict[str, str] = field(default_factory=dict)
    subscriptions: dict[str, str] = field(default_factory=dict)  # email -> SubscriptionArn


@dataclass(frozen=True)
class Observed:
    alarm: ObservedAlarm
    topic: ObservedTopic


def _topic_arn(aws: Aws) -> str:
    from dogxray.lab.desired import partition

    name = topic_name(aws.settings)
    return f"arn:{partition(aws.region)}:sns:{aws.region}:{aws.account_id}:{name}"


def observe(aws: Aws) -> Observed:
    """The alarm and the topic by their names, with their tags (two to five reads)."""
    return Observed(observe_alarm(aws), _observe_topic(aws))


def observe_alarm(aws: Aws) -> ObservedAlarm:
    cw = aws.client("cloudwatch")
    found = cw.describe_alarms(AlarmNames=[alarm_name(aws.settings)], AlarmTypes=["MetricAlarm"])
    alarms = found.get("MetricAlarms") or []
    if not alarms:
        return ObservedAlarm(exists=False)
    alarm = alarms[0]
    tags = cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"]).get("Tags") or []
    return ObservedAlarm(
        exists=True,
        arn=alarm["AlarmArn"],
        tags={t["Key"]: t["Value"] for t in tags},
        state=alarm.get("StateValue"),
        reason=alarm.get("StateReason"),
        params={key: alarm.get(key) for key in _COMPARED},
    )


def _observe_topic(aws: Aws) -> ObservedTopic:
    sns, arn = aws.client("sns"), _topic_arn(aws)
    try:
        tags = sns.list_tags_for_resource(ResourceArn=arn).get("Tags") or []
        pages = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn)
        subs = {
            s["Endpoint"]: s["SubscriptionArn"]
            for page in pages
            for s in page.get("Subscriptions", [])
            if s.get("Protocol") == "email"
        }
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NotFound", "ResourceNotFound"):
            return ObservedTopic(exists=False, arn=arn)
        raise
    return ObservedTopic(
        exists=True, arn=arn, tags={t["Key"]: t["Value"] for t in tags}, subscriptions=subs
    )


# The alarm's settings compared with what is deployed (DescribeAlarms' keys).
_COMPARED = (
    "Namespace",
    "MetricName",
    "Dimensions",
    "Statistic",
    "Period",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "AlarmActions",
    "OKActions",
)


def alarm_params(settings: Settings, o: AlarmOptions, topic_arn: str | None) -> dict[str, Any]:
    """PutMetricAlarm's parameters (tags aside) for these options."""
    actions = [topic_arn] if topic_arn else []
    return {
        "Namespace": NAMESPACE,
        "MetricName": METRIC,
        "Dimensions": [{"Name": "FunctionName", "Value": settings.function_name}],
        "Statistic": STATISTIC,
        "Period": o.period_s,
        "EvaluationPeriods": o.evaluation_periods,
        "DatapointsToAlarm": o.datapoints or o.evaluation_periods,
        "Threshold": float(o.threshold),
        "ComparisonOperator": COMPARISON,
        "TreatMissingData": MISSING,
        "AlarmActions": actions,
        "OKActions": actions,
    }


def refuse_foreign(seen: Observed, settings: Settings) -> None:
    """An alarm or topic under the lab's names that the lab did not make stops the command."""
    for kind, name, exists, tags in (
        ("alarm", alarm_name(settings), seen.alarm.exists, seen.alarm.tags),
        ("SNS topic", topic_name(settings), seen.topic.exists, seen.topic.tags),
    ):
        if exists and tags.get(TAG_LAB) != settings.lab:
            raise DogxrayError(
                f"{kind} {name} exists and is not lab {settings.lab}'s "
                f"(it is not tagged {TAG_LAB}={settings.lab})",
                hint="dogxray changes only what it created: delete or rename it, or use "
                "another --lab",
            )


def _step(message: str, action: Action, resource: Resource, operation: str, **params: Any) -> Step:
    return Step(
        name=resource.kind,
        message=message,
        action=action,
        resource=resource,
        operation=operation,
        params=params,
        tolerate=("ResourceNotFound", "NotFound"),
    )


def plan(settings: Settings, o: AlarmOptions, seen: Observed) -> list[Step]:
    """The steps that make the alarm (and, with an email, the topic and its subscription)
    as asked; none when everything is already so. The alarm keeps notifying a topic it
    already notifies when no email is given."""
    tags = [{"Key": TAG_LAB, "Value": settings.lab}]
    steps: list[Step] = []
    topic = seen.topic
    notify = topic.arn if (o.email or (topic.exists and topic.arn in _actions(seen))) else None
    if o.email and not topic.exists:
        steps.append(
            _step(
                f"create SNS topic {topic_name(settings)}",
                Action.create,
                Resource("topic", topic_name(settings)),
                "CreateTopic",
                Name=topic_name(settings),
                Tags=tags,
            )
        )
    if o.email and o.email not in topic.subscriptions:
        steps.append(
            _step(
                f"subscribe {o.email} to {topic_name(settings)} (AWS emails a confirmation link)",
                Action.create,
                Resource("subscription", o.email, of=Resource("topic", topic_name(settings))),
                "Subscribe",
                TopicArn=topic.arn,
                Protocol="email",
                Endpoint=o.email,
                ReturnSubscriptionArn=True,
            )
        )
    wanted = alarm_params(settings, o, notify)
    if not seen.alarm.exists or _differs(wanted, seen.alarm.params):
        name = alarm_name(settings)
        verb = "update" if seen.alarm.exists else "create"
        steps.append(
            _step(
                f"{verb} alarm {name}: {METRIC} {STATISTIC} >= {o.threshold} in "
                f"{wanted['DatapointsToAlarm']} of {o.evaluation_periods} period(s) of "
                f"{o.period_s} s",
                Action.update if seen.alarm.exists else Action.create,
                Resource("alarm", name),
                "PutMetricAlarm",
                AlarmName=name,
                AlarmDescription=f"dogxray lab {settings.lab}: errors of {settings.function_name}",
                Tags=tags,
                **wanted,
            )
        )
    return steps


def _actions(seen: Observed) -> list[str]:
    return list(seen.alarm.params.get("AlarmActions") or [])


def _differs(wanted: dict[str, Any], have: dict[str, Any]) -> bool:
    return any(
        (have.get(k) or []) != v if isinstance(v, list) else have.get(k) != v
        for k, v in wanted.items()
    )


def off_steps(settings: Settings, seen: Observed) -> list[Step]:
    """Delete the lab's alarm and topic (with its subscriptions): each only when tagged
    with this lab."""
    steps: list[Step] = []
    if seen.alarm.exists and seen.alarm.tags.get(TAG_LAB) == settings.lab:
        name = alarm_name(settings)
        steps.append(
            _step(
                f"delete alarm {name}",
                Action.delete,
                Resource("alarm", name),
                "DeleteAlarms",
                AlarmNames=[name],
            )
        )
    if seen.topic.exists and seen.topic.tags.get(TAG_LAB) == settings.lab:
        steps.append(
            _step(
                f"delete SNS topic {topic_name(settings)} and its subscriptions",
                Action.delete,
                Resource("topic", topic_name(settings)),
                "DeleteTopic",
                TopicArn=seen.topic.arn,
            )
        )
    return steps
