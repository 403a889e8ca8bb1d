"""The emulator evaluates CloudWatch alarms as CloudWatch does: a new alarm starts in
INSUFFICIENT_DATA, the function's Errors make it fire (ALARM, its SNS topic notified and
the notification recorded), a period without errors brings it back to OK; each change is
in DescribeAlarmHistory with CloudWatch's wording. The reasons are compared with texts
CloudWatch wrote in real notifications (cited in docs/fidelity.md)."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace
from typing import Any

import pytest
import requests

from dogxray.local import alarms
from dogxray.local.emulator import Emulator
from tests.local.conftest import Lab

PERIOD_START = 1_718_798_400.0  # 19/06/24 12:00:00 UTC


def _alarm(**over: Any) -> SimpleNamespace:
    base = {
        "name": "a",
        "period": 60,
        "evaluation_periods": 1,
        "datapoints_to_alarm": None,
        "comparison_operator": "GreaterThanOrEqualToThreshold",
        "statistic": "Sum",
        "threshold": 1.0,
        "treat_missing_data": "notBreaching",
    }
    return SimpleNamespace(**{**base, **over})


def test_a_breaching_period_fires_in_cloudwatchs_words() -> None:
    verdict = alarms.evaluate(_alarm(), {PERIOD_START: [1.0, 1.0]}, PERIOD_START + 30, "OK")
    assert verdict.state == "ALARM"
    # as in a real notification: "Threshold Crossed: 1 out of the last 1 datapoints
    # [2.0 (19/06/24 12:00:00)] was greater than or equal to the threshold (1.0) (minimum 1
    # datapoint for OK -> ALARM transition)."
    assert verdict.reason == (
        "Threshold Crossed: 1 out of the last 1 datapoints [2.0 (19/06/24 12:00:00)] was "
        "greater than or equal to the threshold (1.0) (minimum 1 datapoint for OK -> ALARM "
        "transition)."
    )


def test_a_quiet_period_is_ok_and_missing_data_is_not_breaching() -> None:
    ok = alarms.evaluate(_alarm(), {PERIOD_START: [0.0, 0.0]}, PERIOD_START + 30, "ALARM")
    assert ok.state == "OK"
    assert ok.reason == (
        "Threshold Crossed: 1 out of the last 1 datapoints [0.0 (19/06/24 12:00:00)] was not "
        "greater than or equal to the threshold (1.0) (minimum 1 datapoint for ALARM -> OK "
        "transition)."
    )
    missing = alarms.evaluate(_alarm(), {}, PERIOD_START + 30, "INSUFFICIENT_DATA")
    assert missing.state == "OK"
    assert missing.reason == (
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint "
        "was treated as [NonBreaching]."
    )
    assert alarms.evaluate(_alarm(treat_missing_data="missing"), {}, PERIOD_START, "OK").state == (
        "INSUFFICIENT_DATA"
    )


def test_m_out_of_n_datapoints() -> None:
    two_of_three = _alarm(evaluation_periods=3, datapoints_to_alarm=2)
    one = {PERIOD_START: [1.0]}
    assert alarms.evaluate(two_of_three, one, PERIOD_START + 150, "OK").state == "OK"
    two = {PERIOD_START: [1.0], PERIOD_START + 60: [3.0]}
    verdict = alarms.evaluate(two_of_three, two, PERIOD_START + 150, "OK")
    assert verdict.state == "ALARM" and verdict.reason.startswith(
        "Threshold Crossed: 2 out of the last 2 datapoints ["
    )
    old = {PERIOD_START - 60: [5.0]}  # before the three periods: not evaluated
    assert alarms.evaluate(two_of_three, old, PERIOD_START + 150, "OK").state == "OK"


@pytest.fixture
def evaluator(emulator: Emulator) -> alarms.Evaluator:
    assert emulator.state is not None
    found: alarms.Evaluator = emulator.state.alarms
    return found


@pytest.mark.slow
def test_the_functions_errors_fire_the_alarm_and_a_quiet_minute_clears_it(
    lab: Lab, evaluator: alarms.Evaluator
) -> None:
    name, url = lab.deploy({"app.py": "def handler(event, context):\n    raise ValueError('x')\n"})
    sns, cw = lab.client("sns"), lab.client("cloudwatch")
    topic = sns.create_topic(Name=f"{name}-alarms")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="me@example.com")
    alarm_name = f"{name}-errors"
    cw.put_metric_alarm(
        AlarmName=alarm_name,
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Dimensions=[{"Name": "FunctionName", "Value": name}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
        AlarmActions=[topic],
        OKActions=[topic],
    )
    first = cw.describe_alarm_history(AlarmName=alarm_name)["AlarmHistoryItems"]
    assert [h["HistorySummary"] for h in first if h["HistoryItemType"] == "StateUpdate"] == [
        "Alarm updated from INSUFFICIENT_DATA to OK"
    ]
    while not 2 <= time.time() % 60 <= 50:  # the error and its checks in one period
        time.sleep(0.5)
    assert requests.get(url, timeout=30).status_code == 502
    evaluator.tick()
    [state] = cw.describe_alarms(AlarmNames=[alarm_name])["MetricAlarms"]
    assert state["StateValue"] == "ALARM"
    assert state["StateReason"].startswith("Threshold Crossed: 1 out of the last 1 datapoints [1.0")
    history = cw.describe_alarm_history(AlarmName=alarm_name)["AlarmHistoryItems"]
    assert [h["HistorySummary"] for h in history[:2]] == [
        f"Successfully executed action {topic}",
        "Alarm updated from OK to ALARM",
    ]
    assert json.loads(history[1]["HistoryData"])["newState"]["stateValue"] == "ALARM"
    from moto.sns.models import sns_backends

    sent = sns_backends["123456789012"]["us-east-1"].topics[topic].sent_notifications
    alarm_message = json.loads(sent[-1][1])
    assert (alarm_message["AlarmName"], alarm_message["NewStateValue"]) == (alarm_name, "ALARM")
    assert alarm_message["OldStateValue"] == "OK"

    later = time.time() + 60  # the next minute: no invocation, missing data, not breaching
    evaluator.clock = lambda: later
    try:
        evaluator.tick()
    finally:
        evaluator.clock = time.time
    [state] = cw.describe_alarms(AlarmNames=[alarm_name])["MetricAlarms"]
    assert state["StateValue"] == "OK"
    assert json.loads(sent[-1][1])["NewStateValue"] == "OK"
    kinds = cw.describe_alarm_history(AlarmName=alarm_name, HistoryItemType="StateUpdate")
    assert [h["HistorySummary"] for h in kinds["AlarmHistoryItems"]] == [
        "Alarm updated from ALARM to OK",
        "Alarm updated from OK to ALARM",
        "Alarm updated from INSUFFICIENT_DATA to OK",
    ]
