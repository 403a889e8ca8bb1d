"""`dogxray demo --triage`: the X-Ray triage lab after the main lab's stages, with the
Monitor lab's alarm.

Create an alarm on the function's Errors, inject a hang and failures, put the function
under load, let `analyze` name the cause, read the metrics and see the alarm fire, turn
the injection off and see the alarm clear. Every stage is verified like the main lab's;
the demo's cleanup removes everything (the alarm too), so it always ends with no
injection.
"""

from __future__ import annotations

from typing import Any

from dogxray.core.errors import DogxrayError
from dogxray.demo.stages import Stage, StageRunner
from dogxray.monitor.invocations import SAMPLING, of_requests
from dogxray.traces.rules import exception_class
from dogxray.triage.results import Analysis

LATENCY_MS = 3000  # longer than a cold start on a busy machine, short enough for a demo
# "Slow" for the analysis, as a learner zooms the histogram on the slow blip: the
# derived threshold (twice the median) finds nothing when most traced requests were hit,
# since the same draw delays and fails a request.
SLOW_MS = LATENCY_MS * 0.8
FAILURE_RATE = 0.3
REQUESTS = 30
CONCURRENCY = 5
# Lambda traces 1 request a second and 5 % of the rest: 2 a second for 15 s keeps about
# half of them, enough for `analyze` to compare slow with normal and name the failure.
RATE = 2.0
METRICS_WAIT_S = 180  # Lambda publishes metrics a minute or two late on AWS
METRICS_POLL_S = 15
# The alarm judges whole minutes: it fires once the failures' minute is evaluated and
# clears once a minute without them is (on AWS the metrics also come a minute or two late).
ALARM_WAIT_S = {True: 100, False: 360}  # by "is the emulator"
CLEARING_REQUESTS = 5


class Triage:
    """The triage stages, sharing the main demo's runner (clock, sleep, probe)."""

    def __init__(self, runner: StageRunner) -> None:
        self.runner = runner
        self.started_at = 0.0
        self.expected_traces = 0  # what Lambda's sampling should have kept of the load

    def stages(self) -> list[tuple[str, str, Any]]:
        return [
            ("7a", "Alarm on the function's errors", self.alarm_on),
            ("7b", "Inject a hang and failures", self.inject),
            ("7c", "Put the function under load", self.load),
            ("7d", "Let the traces find the cause", self.analyze),
            ("7e", "Read the metrics, see the alarm fire", self.metrics),
            ("7f", "Turn the injection off", self.off),
            ("7g", "See the alarm clear", self.alarm_clears),
        ]

    def alarm_on(self, stage: Stage) -> None:
        from dogxray.lab import alarm

        self.runner.show.narrate(
            "Monitor lab: CloudWatch > Alarms > Create alarm > Lambda > By function name > "
            "Errors, Sum, 1 minute, greater than or equal to 1."
        )
        doc = alarm.apply(self.runner.aws, alarm.AlarmOptions(), reporter=self.runner.show.lab)
        self.runner.say(stage, f"alarm {doc.name}: Errors Sum >= 1 per minute, state {doc.state}")
        if doc.state == "ALARM":  # stage 5's failure is in this minute: it counts too
            self.runner.say(stage, "stage 5's failure already fired it; a minute without errors")
            self.runner.say(stage, "brings it back to OK before the injection starts")
            line = self._alarm_in("OK", "a minute without errors")
            self.runner.say(stage, f"alarm {line.name}: OK")

    def inject(self, stage: Stage) -> None:
        from dogxray.lab import injection
        from dogxray.triage import inject

        self.runner.show.narrate(
            "Triage lab: add code that sleeps and throws on random requests "
            "(the lab's hangingException), then deploy it."
        )
        wanted = injection.check(LATENCY_MS, FAILURE_RATE, None, "call_dog_api")
        assert wanted is not None  # constants that inject something
        inject.inject(self.runner.aws, wanted, reporter=self.runner.show.lab)
        self.runner.say(stage, f"the function now injects: {wanted.describe()}")

    def load(self, stage: Stage) -> None:
        from dogxray.triage import load

        self.runner.show.narrate("Triage lab: submit a few dozen requests from the website.")
        self.runner.space_requests()
        self.started_at = self.runner.now()
        try:
            doc = load.load(
                self.runner.aws, requests_count=REQUESTS, concurrency=CONCURRENCY, rate=RATE
            )
        finally:
            self.runner.requests_ended()
        s = doc.status
        self.runner.say(
            stage,
            f"{doc.requests} requests, {RATE:g} a second: 2xx {s['2xx']}, 5xx {s['5xx']}, "
            f"429 {s['429']}; p50 {doc.latency_ms['p50']} ms, max {doc.latency_ms['max']} ms",
        )
        # The REPORT lines say which requests were traced; without them, the rule's
        # floor: one a second.
        self.expected_traces = doc.traced or max(1, int(doc.duration_s))
        self.runner.say(
            stage,
            f"X-Ray should get about {self.expected_traces} of them: {SAMPLING}",
        )
        if not s["5xx"] or not s["2xx"]:
            raise DogxrayError("expected both successes and injected failures under load")

    def analyze(self, stage: Stage) -> None:
        from dogxray.core.window import iso
        from dogxray.triage import analyze as triage

        self.runner.show.narrate(
            "Console: the service map's ring turns red; zoom the latency histogram on the "
            "slow blip, view those traces, open the hangingException subsegment."
        )
        since = iso(self.started_at - 10) or "10m"

        def ready() -> Analysis | None:
            doc = triage.analyze(
                self.runner.aws, self.runner.settings, since=since, threshold_ms=SLOW_MS
            )
            return doc if doc.traces >= self.expected_traces * 0.9 else None

        doc = self.runner.wait_until(
            ready, f"X-Ray to index the ~{self.expected_traces} traces sampling kept"
        )
        if doc is None:
            raise DogxrayError("X-Ray did not return the load's traces in time")
        nodes, clusters = doc.slow.nodes, doc.faulty.exceptions
        slow = nodes[0].node if nodes else None
        exc = clusters[0] if clusters else None
        self.runner.say(stage, f"{doc.traces} traces{of_requests(doc.requests)}")
        self.runner.say(
            stage,
            f"{doc.slow.count} slow of {doc.traces}: {slow} takes "
            f"{nodes[0].difference_ms if nodes else 0:.0f} ms more on average",
        )
        if exc:
            self.runner.say(stage, f"{exc.count} failed with {exc.type} on {exc.node}")
        if not exc or slow != "injected_fault" or exception_class(exc.type) != "InjectedFailure":
            raise DogxrayError("analyze did not name the injected subsegment and exception")

    def metrics(self, stage: Stage) -> None:
        from dogxray.monitor import metrics

        self.runner.show.narrate("Console: Lambda > Monitor: invocations, errors, duration.")
        function = self.runner.settings.function_name

        def ready() -> metrics.Metrics | None:
            doc = metrics.metrics(self.runner.aws, function, since="15m", period="1m")
            return doc if (doc.invocations.total or 0) >= REQUESTS else None

        doc = self.runner.wait_until(ready, "CloudWatch to publish the metrics", METRICS_WAIT_S)
        if doc is None:
            raise DogxrayError("no AWS/Lambda metrics for the load were published in time")
        p99 = doc.duration_ms.p99 or doc.duration_ms.p99_max or 0
        self.runner.say(
            stage,
            f"Invocations {doc.invocations.total or 0:.0f}, Errors {doc.errors.total or 0:.0f}, "
            f"Duration p99 {p99:.0f} ms",
        )
        if not doc.errors.total:
            raise DogxrayError("the Errors metric does not show the injected failures")
        line = self._alarm_in("ALARM", "the alarm to fire")
        self.runner.say(stage, f"alarm {line.name}: ALARM: {line.reason}")

    def off(self, stage: Stage) -> None:
        from dogxray.triage import inject

        self.runner.show.narrate("Triage lab: remove the terrible code and deploy again.")
        inject.inject(self.runner.aws, None, reporter=self.runner.show.lab)
        if inject.active(self.runner.aws) is not None:
            raise DogxrayError("the injection is still on")
        result = self.runner.probe()
        if not result.ok:
            raise DogxrayError(result.failure or "the function still fails without injection")
        self.runner.say(stage, f"injection off; the Function URL answers HTTP {result.status}")

    def alarm_clears(self, stage: Stage) -> None:
        from dogxray.lab import alarm
        from dogxray.triage import load

        self.runner.show.narrate(
            "Monitor lab: send a few good requests; the alarm returns to OK once CloudWatch "
            "evaluates a minute without errors (its History tab lists each change)."
        )
        self.runner.space_requests()
        try:
            doc = load.load(self.runner.aws, requests_count=CLEARING_REQUESTS, concurrency=1)
        finally:
            self.runner.requests_ended()
        if doc.status["2xx"] != CLEARING_REQUESTS:
            raise DogxrayError(f"expected {CLEARING_REQUESTS} good requests: {doc.status}")
        line = self._alarm_in("OK", "the alarm to clear (the failures' minute must pass)")
        self.runner.say(stage, f"alarm {line.name}: OK: {line.reason}")
        changes = [
            s for _, kind, s in alarm.history(self.runner.aws) or [] if kind == "StateUpdate"
        ]
        if changes:
            self.runner.say(stage, "history, oldest first: " + "; ".join(reversed(changes[:3])))
            if "Alarm updated from ALARM to OK" not in changes:
                raise DogxrayError("the alarm history does not record its return to OK")

    def _alarm_in(self, state: str, what: str) -> Any:
        """The lab's alarm once it is in `state` (waited for: whole minutes)."""
        from dogxray.lab import alarm

        def ready() -> alarm.AlarmLine | None:
            line = alarm.line(self.runner.aws)
            return line if line is not None and line.state == state else None

        found = self.runner.wait_until(ready, what, ALARM_WAIT_S[self.runner.aws.is_local])
        if found is None:
            raise DogxrayError(f"the alarm did not reach {state} in time")
        return found
