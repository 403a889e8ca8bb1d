"""The emulator publishes the `AWS/Lambda` metrics per request, as the Lambda service does:
after a known number of invocations, errors and throttles, the sums match, read both with
GetMetricData and through `dogxray metrics`."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests

from dogxray.core.aws import Aws
from dogxray.core.config import Settings
from dogxray.monitor import metrics
from tests.helpers import wait_for
from tests.local.conftest import Lab
from tests.local.test_scaling import Held, deploy


def test_metrics_sum_up_to_what_was_sent(lab: Lab, tmp_path: Path) -> None:
    name, url, arn = deploy(lab, tmp_path / "gate")
    lam = lab.client("lambda")
    assert [requests.get(url, timeout=30).status_code for _ in range(3)] == [200] * 3
    assert [requests.get(url + "fail", timeout=30).status_code for _ in range(2)] == [502] * 2
    failed = lam.invoke(FunctionName=name, Payload=json.dumps({"rawPath": "/fail"}).encode())
    assert failed["FunctionError"] == "Unhandled"  # the Invoke API counts too
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=2)
    pool = lab.emu.runtime.pool
    held = Held(url, tmp_path / "gate", 5)
    assert wait_for(lambda: pool.busy(arn) == 2 and held.statuses() == [429] * 3)
    assert sorted(r.status_code for r in held.open()) == [200, 200, 429, 429, 429]
    # 3 ok + 3 failed + 2 held invocations; 3 throttles, which are no invocations

    now = datetime.now(timezone.utc)
    queries = [
        ("invocations", "Invocations", "Sum"),
        ("errors", "Errors", "Sum"),
        ("throttles", "Throttles", "Sum"),
        ("durations", "Duration", "SampleCount"),
        ("slowest", "Duration", "Maximum"),
        ("concurrency", "ConcurrentExecutions", "Maximum"),
    ]
    answer = lab.client("cloudwatch").get_metric_data(
        MetricDataQueries=[
            {
                "Id": query_id,
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Lambda",
                        "MetricName": metric,
                        "Dimensions": [{"Name": "FunctionName", "Value": name}],
                    },
                    "Period": 3600,
                    "Stat": stat,
                },
            }
            for query_id, metric, stat in queries
        ],
        StartTime=now - timedelta(minutes=30),
        EndTime=now + timedelta(minutes=30),
    )
    values = {r["Id"]: sum(r["Values"]) for r in answer["MetricDataResults"]}
    assert values["invocations"] == 8
    assert values["errors"] == 3
    assert values["throttles"] == 3
    assert values["durations"] == 8
    assert 0 < values["slowest"] < 60_000
    assert values["concurrency"] == 2  # the two held requests ran side by side

    doc = metrics.metrics(
        Aws(Settings.from_options(endpoint_url=lab.emu.endpoint_url, region="us-east-1")),
        name,
        since="10m",
        period="1m",
    ).to_json()
    assert doc["invocations"]["total"] == 8
    assert doc["errors"]["total"] == 3
    assert doc["throttles"]["total"] == 3
    assert doc["concurrent_executions"]["max"] == 2
    assert doc["duration_ms"]["p50_max"] is not None  # the emulator computes percentiles
    assert doc["duration_ms"]["p50_max"] <= doc["duration_ms"]["p99_max"]
    # and the window's own, over one window-long period
    assert doc["duration_ms"]["p50"] is not None
    assert doc["duration_ms"]["p50"] <= doc["duration_ms"]["p99"] <= doc["duration_ms"]["p99_max"]
    lam.delete_function(FunctionName=name)
