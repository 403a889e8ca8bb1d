"""CloudWatch alarm evaluation for the emulator: moto stores metric alarms but never
evaluates them, starts them in OK and has no alarm history.

`Evaluator` runs on the emulator's clock. A new alarm starts in INSUFFICIENT_DATA
("Unchecked: Initial alarm creation") and is evaluated at once; then every `interval`
seconds each metric alarm is evaluated over its last `EvaluationPeriods` periods
(aligned to the period, the current one included) from the datapoints the emulator
wrote: a period breaches when its statistic compares true with the threshold, a period
without data counts as `TreatMissingData` says, and the alarm is in ALARM when at least
`DatapointsToAlarm` periods breach. A change of state is recorded in the alarm's history
(DescribeAlarmHistory: StateUpdate, then Action for each SNS topic notified) with
CloudWatch's wording, and published to the alarm's SNS topics (moto records each
publish on the topic). docs/fidelity.md cites the rules and the wording.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from dogxray.local.wsgi import Reply, Request, State

DEFAULT_INTERVAL_S = 5.0  # CloudWatch evaluates once a minute; the emulator more often


def parse_interval(value: float | None = None) -> float:
    """The evaluation interval: the argument, else $DOGXRAY_LOCAL_ALARM_INTERVAL, else 5 s."""
    import os

    from dogxray.core.config import ENV_LOCAL_ALARM_INTERVAL
    from dogxray.core.errors import DogxrayError

    text = os.environ.get(ENV_LOCAL_ALARM_INTERVAL) if value is None else str(value)
    if not text:
        return DEFAULT_INTERVAL_S
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0.05 <= seconds <= 3600:
        raise DogxrayError.usage(
            f"invalid alarm evaluation interval {text!r}",
            hint=f"{ENV_LOCAL_ALARM_INTERVAL} takes seconds from 0.05 to 3600 (default 5)",
        )
    return seconds


INITIAL_REASON = "Unchecked: Initial alarm creation"
_OPERATORS: dict[str, tuple[str, Callable[[float, float], bool]]] = {
    "GreaterThanOrEqualToThreshold": ("greater than or equal to", lambda v, t: v >= t),
    "GreaterThanThreshold": ("greater than", lambda v, t: v > t),
    "LessThanThreshold": ("less than", lambda v, t: v < t),
    "LessThanOrEqualToThreshold": ("less than or equal to", lambda v, t: v <= t),
}
_STATISTICS: dict[str, Callable[[list[float]], float]] = {
    "Sum": sum,
    "Average": lambda values: sum(values) / len(values),
    "Maximum": max,
    "Minimum": min,
    "SampleCount": lambda values: float(len(values)),
}


@dataclass
class Verdict:
    """One evaluation: the state, CloudWatch's reason, and the datapoints behind it."""

    state: str
    reason: str
    data: dict[str, Any]


def _stamp(ts: float) -> str:
    """CloudWatch's datapoint time in a reason: `19/06/24 12:00:00` (UTC)."""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%d/%m/%y %H:%M:%S")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def evaluate(alarm: Any, values: dict[float, list[float]], now: float, was: str) -> Verdict:
    """CloudWatch's verdict on `alarm` (moto's model) from the raw values of each period
    start (epoch seconds) in its evaluation range."""
    period, n = int(alarm.period), int(alarm.evaluation_periods)
    needed = int(alarm.datapoints_to_alarm or n)
    words, compare = _OPERATORS.get(
        alarm.comparison_operator, _OPERATORS["GreaterThanOrEqualToThreshold"]
    )
    stat = _STATISTICS.get(alarm.statistic or "Sum", sum)
    threshold = float(alarm.threshold)
    latest = now - now % period
    starts = [latest - period * i for i in range(n)]  # newest first
    points = [(s, stat(values[s])) for s in starts if values.get(s)]
    missing = n - len(points)
    treat = alarm.treat_missing_data or "missing"
    breaching = sum(1 for _, v in points if compare(v, threshold))
    if treat == "breaching":
        breaching += missing
    shown = ", ".join(f"{v:.1f} ({_stamp(s)})" for s, v in points)
    data = {
        "version": "1.0",
        "queryDate": datetime.fromtimestamp(now, timezone.utc).isoformat(),
        "startDate": datetime.fromtimestamp(starts[-1], timezone.utc).isoformat(),
        "statistic": alarm.statistic,
        "period": period,
        "recentDatapoints": [v for _, v in points],
        "threshold": threshold,
        "evaluatedDatapoints": [{"timestamp": _stamp(s), "value": v} for s, v in points],
    }
    if not points:
        if treat == "missing":
            return Verdict("INSUFFICIENT_DATA", "Insufficient Data: no datapoints", data)
        if treat == "ignore":
            return Verdict(was, "", data)
        as_word = "Breaching" if treat == "breaching" else "NonBreaching"
        state = "ALARM" if treat == "breaching" and breaching >= needed else "OK"
        return Verdict(
            state,
            f"Threshold Crossed: no datapoints were received for {_plural(n, 'period')} and "
            f"{_plural(n, 'missing datapoint')} {'was' if n == 1 else 'were'} treated as "
            f"[{as_word}].",
            data,
        )
    if breaching >= needed:
        return Verdict(
            "ALARM",
            f"Threshold Crossed: {breaching} out of the last {len(points)} datapoints"
            f" [{shown}] {'was' if breaching == 1 else 'were'} {words} the threshold "
            f"({threshold}) (minimum {_plural(needed, 'datapoint')} for "
            f"{'OK' if was != 'ALARM' else 'ALARM'} -> ALARM transition).",
            data,
        )
    ok = len(points) - (breaching if treat != "breaching" else breaching - missing)
    return Verdict(
        "OK",
        f"Threshold Crossed: {ok} out of the last {len(points)} datapoints "
        f"[{shown}] {'was' if ok == 1 else 'were'} not {words} the threshold ({threshold}) "
        f"(minimum 1 datapoint for {was if was == 'ALARM' else 'INSUFFICIENT_DATA'} -> OK "
        "transition).",
        data,
    )


@dataclass
class HistoryItem:
    alarm: str
    when: float
    kind: str  # StateUpdate | Action
    summary: str
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "AlarmName": self.alarm,
            "AlarmType": "MetricAlarm",
            "Timestamp": self.when,
            "HistoryItemType": self.kind,
            "HistorySummary": self.summary,
            "HistoryData": json.dumps(self.data),
        }


@dataclass
class Evaluator:
    """Evaluates every metric alarm of the emulator's accounts on its clock, keeps their
    history and notifies their SNS topics."""

    interval: float = DEFAULT_INTERVAL_S
    clock: Callable[[], float] = time.time
    history: dict[tuple[str, str, str], list[HistoryItem]] = field(default_factory=dict)
    _seen: set[tuple[str, str, str]] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Evaluator:
        threading.Thread(target=self._loop, name="dogxray-alarms", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.tick()

    def tick(self) -> None:
        """Evaluate every alarm once (the loop's step; tests call it directly)."""
        for account, region, backend in _backends():
            for alarm in list(backend.describe_alarms()):
                self._evaluate(account, region, backend, alarm)

    def created(self, account: str, region: str, names: list[str]) -> None:
        """PutMetricAlarm succeeded: a new alarm starts in INSUFFICIENT_DATA, and every
        alarm it (re)defined is evaluated at once."""
        backend = _backend(account, region)
        for alarm in list(backend.get_alarms_by_alarm_names(names)):
            key = (account, region, alarm.name)
            with self._lock:
                new = key not in self._seen
                self._seen.add(key)
            if new:
                backend.set_alarm_state(alarm.name, INITIAL_REASON, "{}", "INSUFFICIENT_DATA")
            self._evaluate(account, region, backend, alarm)

    def _evaluate(self, account: str, region: str, backend: Any, alarm: Any) -> None:
        key = (account, region, alarm.name)
        with self._lock:
            if key not in self._seen:  # made before this evaluator knew of it
                self._seen.add(key)
                backend.set_alarm_state(alarm.name, INITIAL_REASON, "{}", "INSUFFICIENT_DATA")
            now = self.clock()
            was = alarm.state_value
            verdict = evaluate(alarm, _values(backend, alarm, now), now, was)
            if verdict.state == was:
                return
            backend.set_alarm_state(
                alarm.name, verdict.reason, json.dumps(verdict.data), verdict.state
            )
            items = self.history.setdefault(key, [])
            items.append(
                HistoryItem(
                    alarm.name,
                    now,
                    "StateUpdate",
                    f"Alarm updated from {was} to {verdict.state}",
                    {
                        "version": "1.0",
                        "oldState": {"stateValue": was},
                        "newState": {
                            "stateValue": verdict.state,
                            "stateReason": verdict.reason,
                            "stateReasonData": verdict.data,
                        },
                    },
                )
            )
            for topic in _actions(alarm, verdict.state):
                _publish(account, region, topic, alarm, was, verdict, now)
                items.append(
                    HistoryItem(
                        alarm.name,
                        now + 0.001,  # after its state update
                        "Action",
                        f"Successfully executed action {topic}",
                        {"actionState": "Succeeded", "stateUpdateTimestamp": now},
                    )
                )

    def describe_history(self, account: str, region: str, doc: dict[str, Any]) -> dict[str, Any]:
        """DescribeAlarmHistory: newest first, by name and item type when given."""
        name, kind = doc.get("AlarmName"), doc.get("HistoryItemType")
        with self._lock:
            items = [
                item
                for (acct, reg, alarm), found in self.history.items()
                if (acct, reg) == (account, region) and name in (None, alarm)
                for item in found
                if kind in (None, item.kind)
            ]
        items.sort(key=lambda item: item.when, reverse=True)
        limit = int(doc.get("MaxRecords") or 100)
        return {"AlarmHistoryItems": [item.to_json() for item in items[:limit]]}


def _actions(alarm: Any, state: str) -> list[str]:
    if not getattr(alarm, "actions_enabled", True):
        return []
    found = {
        "ALARM": alarm.alarm_actions,
        "OK": alarm.ok_actions,
        "INSUFFICIENT_DATA": alarm.insufficient_data_actions,
    }.get(state)
    return [arn for arn in found or [] if arn.startswith("arn:") and ":sns:" in arn]


def _publish(
    account: str, region: str, topic: str, alarm: Any, was: str, verdict: Verdict, now: float
) -> None:
    """The notification CloudWatch sends to an SNS topic (its JSON message)."""
    from moto.sns.models import sns_backends

    message = {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": account,
        "NewStateValue": verdict.state,
        "NewStateReason": verdict.reason,
        "StateChangeTime": datetime.fromtimestamp(now, timezone.utc).isoformat(),
        "Region": region,
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": was,
        "Trigger": {
            "MetricName": alarm.metric_name,
            "Namespace": alarm.namespace,
            "Statistic": (alarm.statistic or "").upper(),
            "Dimensions": [{"name": d.name, "value": d.value} for d in alarm.dimensions],
            "Period": alarm.period,
            "EvaluationPeriods": alarm.evaluation_periods,
            "ComparisonOperator": alarm.comparison_operator,
            "Threshold": float(alarm.threshold),
        },
    }
    subject = f'{verdict.state}: "{alarm.name}" in {region}'
    backend = sns_backends[account][region]
    if topic in backend.topics:
        backend.publish(json.dumps(message), arn=topic, subject=subject)


def _backends() -> Iterator[tuple[str, str, Any]]:
    from moto.cloudwatch.models import cloudwatch_backends

    for account in list(cloudwatch_backends.keys()):
        regions = cloudwatch_backends[account]
        for region in list(regions.keys()):
            yield account, region, regions[region]


def _backend(account: str, region: str) -> Any:
    from moto.cloudwatch.models import cloudwatch_backends

    return cloudwatch_backends[account][region]


def _values(backend: Any, alarm: Any, now: float) -> dict[float, list[float]]:
    """The alarm metric's raw values by period start (epoch seconds), over its range."""
    period = int(alarm.period)
    first = now - now % period - period * (int(alarm.evaluation_periods) - 1)
    wanted = {(d.name, d.value) for d in alarm.dimensions}
    found: dict[float, list[float]] = {}
    for datum in list(backend.get_all_metrics()):
        if datum.namespace != alarm.namespace or datum.name != alarm.metric_name:
            continue
        if {(d.name, d.value) for d in datum.dimensions} != wanted:
            continue
        ts = datum.timestamp.replace(tzinfo=timezone.utc).timestamp()
        if ts < first:
            continue
        value = getattr(datum, "value", None)  # a single value (what the emulator writes)
        if value is not None:
            found.setdefault(ts - ts % period, []).append(float(value))
    return found


def cloudwatch_api(state: State, req: Request) -> Reply:
    """The CloudWatch calls the emulator answers itself (DescribeAlarmHistory) or follows
    (PutMetricAlarm: the new alarm's first state); the rest is moto's."""
    action = req.header("X-Amz-Target").rsplit(".", 1)[-1]
    evaluator: Evaluator | None = state.alarms
    scope = req.scope()
    if evaluator is None or scope is None:
        return req.forward()
    if action == "DescribeAlarmHistory":
        return Reply.json(evaluator.describe_history(*scope, req.document() or {}))
    reply = req.forward()
    if action == "PutMetricAlarm" and reply.ok:
        evaluator.created(*scope, [str((req.document() or {}).get("AlarmName"))])
    return reply
