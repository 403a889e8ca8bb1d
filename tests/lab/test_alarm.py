"""`alarm`: the CloudWatch alarm on the function's Errors (and, with --email, the SNS
topic and its subscription), named from the lab and tagged; idempotent; updated when an
option changes; removed by --off and by cleanup; a foreign alarm (same name untagged, or
another alarm on the same metric) left alone; bad input refused before any call."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.core.errors import DogxrayError
from dogxray.lab import alarm, cleanup, service
from dogxray.lab.models import SetupOptions

from .conftest import Lab, tiny_zip

NAME = "dog-photo-function-errors"
TOPIC = "dog-photo-function-alarms"
DEAD_ENDPOINT = ["--endpoint-url", "http://127.0.0.1:9"]


@pytest.fixture
def deployed(lab: Lab) -> Lab:
    service.setup(lab.aws, SetupOptions(), zip_provider=tiny_zip, executor=lab.executor)
    lab.calls.clear()
    return lab


def _apply(lab: Lab, **options: object) -> alarm.AlarmResult:
    return alarm.apply(lab.aws, alarm.AlarmOptions(**options), executor=lab.executor)  # type: ignore[arg-type]


def _alarms(lab: Lab) -> dict[str, dict]:
    found = lab.client("cloudwatch").describe_alarms()["MetricAlarms"]
    return {a["AlarmName"]: a for a in found}


def test_the_alarm_watches_the_functions_errors(deployed: Lab) -> None:
    doc = _apply(deployed)
    a = _alarms(deployed)[NAME]
    assert (a["Namespace"], a["MetricName"], a["Statistic"]) == ("AWS/Lambda", "Errors", "Sum")
    assert a["Dimensions"] == [{"Name": "FunctionName", "Value": "dog-photo-function"}]
    assert (a["Threshold"], a["ComparisonOperator"]) == (1.0, "GreaterThanOrEqualToThreshold")
    assert (a["Period"], a["EvaluationPeriods"], a["DatapointsToAlarm"]) == (60, 1, 1)
    assert a["TreatMissingData"] == "notBreaching" and a["AlarmActions"] == []
    tags = deployed.client("cloudwatch").list_tags_for_resource(ResourceARN=a["AlarmArn"])
    assert tags["Tags"] == [{"Key": "dogxray:lab", "Value": "dog-photo"}]
    assert doc.changed and doc.exists and doc.threshold == 1 and doc.topic_arn is None
    deployed.calls.clear()
    again = _apply(deployed)
    assert again.changed == [] and deployed.calls.mutating == []
    _apply(deployed, threshold=3, period_s=300, evaluation_periods=3, datapoints=2)
    a = _alarms(deployed)[NAME]
    assert (a["Threshold"], a["Period"], a["EvaluationPeriods"], a["DatapointsToAlarm"]) == (
        3.0,
        300,
        3,
        2,
    )


def test_an_email_gets_a_tagged_topic_and_a_subscription(deployed: Lab) -> None:
    doc = _apply(deployed, email="me@example.com")
    sns = deployed.client("sns")
    [topic] = [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert topic.endswith(f":{TOPIC}") and doc.topic_arn == topic
    assert sns.list_tags_for_resource(ResourceArn=topic)["Tags"] == [
        {"Key": "dogxray:lab", "Value": "dog-photo"}
    ]
    [sub] = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert (sub["Protocol"], sub["Endpoint"]) == ("email", "me@example.com")
    assert set(doc.subscriptions) == {"me@example.com"}
    a = _alarms(deployed)[NAME]
    assert a["AlarmActions"] == [topic] and a["OKActions"] == [topic]
    deployed.calls.clear()
    assert _apply(deployed).changed == []  # no --email: it keeps notifying the topic
    assert deployed.calls.mutating == []


def test_off_and_cleanup_remove_only_the_labs_alarm_and_topic(deployed: Lab) -> None:
    cw = deployed.client("cloudwatch")
    cw.put_metric_alarm(  # someone else's alarm on the same metric
        AlarmName="my-own-errors-alarm",
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Dimensions=[{"Name": "FunctionName", "Value": "dog-photo-function"}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=5,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    _apply(deployed, email="me@example.com")
    off = alarm.off(deployed.aws, executor=deployed.executor)
    assert off.changed == [
        f"delete alarm {NAME}",
        f"delete SNS topic {TOPIC} and its subscriptions",
    ]
    assert set(_alarms(deployed)) == {"my-own-errors-alarm"}
    assert deployed.client("sns").list_topics()["Topics"] == []
    _apply(deployed, email="me@example.com")
    status = service.status(deployed.aws)
    assert status.alarm is not None and status.alarm.name == NAME
    done = cleanup.cleanup(deployed.aws, executor=deployed.executor)
    assert f"alarm {NAME}" in done.deleted and f"SNS topic {TOPIC}" in done.deleted
    assert done.remaining == []
    assert set(_alarms(deployed)) == {"my-own-errors-alarm"}


def test_an_untagged_alarm_with_the_labs_name_is_refused_and_kept(deployed: Lab) -> None:
    cw = deployed.client("cloudwatch")
    cw.put_metric_alarm(
        AlarmName=NAME,
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=9,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    with pytest.raises(DogxrayError, match="is not lab dog-photo's"):
        _apply(deployed)
    with pytest.raises(DogxrayError, match="is not lab dog-photo's"):
        alarm.off(deployed.aws, executor=deployed.executor)
    cleanup.cleanup(deployed.aws, executor=deployed.executor)
    assert _alarms(deployed)[NAME]["Threshold"] == 9.0


def test_the_alarm_needs_the_lab(lab: Lab) -> None:
    with pytest.raises(DogxrayError, match="nothing deployed"):
        _apply(lab)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["alarm", "--threshold", "0"], "error: threshold 0: the alarm would fire with no"),
        (["alarm", "--email", "me@"], "error: invalid email address 'me@'"),
        (["alarm", "--email", "a b@example.com"], "error: invalid email address"),
        (["alarm", "--evaluation-periods", "0"], "error: --evaluation-periods 0 is below 1"),
        (["alarm", "--evaluation-periods", "2", "--datapoints", "3"], "error: --datapoints 3"),
        (["alarm", "--period", "90s"], "error: --period 90s is not a whole number of minutes"),
        (["alarm", "--period", "1h", "--evaluation-periods", "25"], "error: the alarm would"),
    ],
)
def test_bad_alarm_input_exits_2_before_any_call(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, [*DEAD_ENDPOINT, *args])
    assert result.exit_code == 2, result.output
    assert result.stdout == "" and "Traceback" not in result.output
    assert result.stderr.startswith(message), result.stderr
    assert "hint: " in result.stderr


def test_the_alarm_command_prints_the_alarm(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dogxray.lab.service.build_zip", tiny_zip)
    runner = CliRunner()
    assert runner.invoke(app, ["setup"]).exit_code == 0
    dry = runner.invoke(app, ["alarm", "--email", "me@example.com", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert dry.stdout == (
        f"  - create SNS topic {TOPIC} (dry run)\n"
        f"  - subscribe me@example.com to {TOPIC} (AWS emails a confirmation link) (dry run)\n"
        f"  - create alarm {NAME}: Errors Sum >= 1 in 1 of 1 period(s) of 60 s (dry run)\n"
    )
    assert _alarms(lab) == {}
    done = runner.invoke(app, ["alarm", "--email", "me@example.com"])
    assert done.exit_code == 0, done.output
    assert done.stdout == (
        f"alarm {NAME}: Errors Sum >= 1 in 1 of 1 period(s) of 60 s (missing data: not "
        "breaching)\n"
        "  state: OK (Unchecked: Initial alarm creation)\n"
        f"  notifies arn:aws:sns:us-east-1:123456789012:{TOPIC}\n"
        "  me@example.com: confirmed\n"
    )
    assert f"- create alarm {NAME}" in done.stderr
    status = runner.invoke(app, ["status"]).stdout
    assert f"  alarm {NAME}: OK (Unchecked: Initial alarm creation)\n" in status
    off = runner.invoke(app, ["alarm", "--off"])
    assert off.stdout == f"alarm {NAME} and its topic removed\n"
    assert runner.invoke(app, ["alarm", "--off"]).stdout == "no alarm of this lab\n"


def test_an_unconfirmed_email_subscription_is_pending() -> None:
    """SNS lists an unconfirmed subscription as `PendingConfirmation`; one asked for with
    ReturnSubscriptionArn has an ARN and `PendingConfirmation=true` (botocore's Stubber:
    moto confirms email subscriptions at once)."""
    import boto3
    from botocore.stub import Stubber

    sns = boto3.client("sns", region_name="us-east-1")
    arn = f"arn:aws:sns:us-east-1:123456789012:{TOPIC}:0d8a1c5e-1111-2222-3333-444455556666"
    with Stubber(sns) as stub:
        stub.add_response(
            "get_subscription_attributes",
            {"Attributes": {"PendingConfirmation": "true"}},
            {"SubscriptionArn": arn},
        )
        stub.add_response(
            "get_subscription_attributes",
            {"Attributes": {"PendingConfirmation": "false"}},
            {"SubscriptionArn": arn},
        )
        aws = type("FakeAws", (), {"client": lambda self, service: sns})()
        assert alarm._subscription_status(aws, "PendingConfirmation") == "pending confirmation"
        assert alarm._subscription_status(aws, arn) == "pending confirmation"
        assert alarm._subscription_status(aws, arn) == "confirmed"
