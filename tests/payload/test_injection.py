"""Fault injection in the function (triage lab): off by default with no trace of it;
with a fixed seed, latency and failures land on the expected requests, each as its own
`injected_fault` subsegment with annotations, a failure as `InjectedFailure`."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from .conftest import Daemon, Lab, log_lines
from .test_trace import _flatten


def names(docs: list[dict[str, Any]]) -> list[str]:
    return sorted(n["name"] for n in _flatten(docs).values())


def inject(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    for key, value in env.items():
        monkeypatch.setenv(f"DOGXRAY_INJECT_{key.upper()}", value)


@pytest.mark.slow
def test_off_by_default_adds_nothing(lambda_mode: Daemon, make_lab: Callable[[], Lab]) -> None:
    lab = make_lab()
    assert not lab.module.injection.SETTINGS.active
    assert lab.invoke()["statusCode"] == 200
    assert "injected_fault" not in names(lambda_mode.collect())


@pytest.mark.slow
def test_latency_is_its_own_annotated_subsegment(
    lambda_mode: Daemon,
    make_lab: Callable[[], Lab],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    inject(monkeypatch, latency_ms="30")
    lab = make_lab()
    assert lab.invoke()["statusCode"] == 200
    nodes = _flatten(lambda_mode.collect())
    [hit] = [n for n in nodes.values() if n["name"] == "injected_fault"]
    assert hit["annotations"] == {"injected_latency_ms": 30, "injected_failure": False}
    assert hit["end_time"] - hit["start_time"] >= 0.030  # it slept at least that long
    parent = nodes[hit["parent_id"]]
    assert parent["name"] == "get_dog_images" and not hit.get("fault")
    [line] = log_lines(capsys.readouterr().out)
    assert line["injected"] == {"latency_ms": 30, "failure": False}
    assert line["outcome"] == "ok"


@pytest.mark.slow
def test_failure_raises_injected_failure_with_the_fault_in_the_trace(
    lambda_mode: Daemon,
    make_lab: Callable[[], Lab],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    inject(monkeypatch, failure_rate="1", at="save_dog_to_s3")
    lab = make_lab()
    with pytest.raises(lab.module.injection.InjectedFailure) as info:
        lab.invoke()
    assert str(info.value) == (
        "injected failure before save_dog_to_s3 (DOGXRAY_INJECT_FAILURE_RATE=1)"
    )
    assert lab.keys() == []  # it failed before the save
    nodes = _flatten(lambda_mode.collect())
    [hit] = [n for n in nodes.values() if n["name"] == "injected_fault"]
    assert hit["fault"] is True
    assert hit["annotations"] == {"injected_latency_ms": 0, "injected_failure": True}
    [exc] = hit["cause"]["exceptions"]
    assert exc["type"] == "InjectedFailure"
    assert "save_dog_to_s3" not in {n["name"] for n in nodes.values()}
    assert "call_dog_api" in {n["name"] for n in nodes.values()}
    [line] = log_lines(capsys.readouterr().out)
    assert line["outcome"] == "injected_failure"


def test_a_fixed_seed_hits_the_expected_requests(
    make_lab: Callable[[], Lab], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One draw per request from the seeded generator decides latency and failure."""
    inject(monkeypatch, latency_ms="1", failure_rate="0.3", latency_rate="0.3", seed="7")
    lab = make_lab()
    draws = random.Random(7)
    expected = [draws.random() < 0.3 for _ in range(12)]
    failed = []
    for _ in range(12):
        try:
            lab.invoke()
            failed.append(False)
        except lab.module.injection.InjectedFailure:
            failed.append(True)
    assert failed == expected and any(failed) and not all(failed)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("env", "error"),
    [
        ({"LATENCY_MS": "abc"}, "invalid literal for int() with base 10: 'abc'"),
        ({"FAILURE_RATE": "1.5"}, "DOGXRAY_INJECT_FAILURE_RATE must be between 0 and 1"),
        (
            {"LATENCY_MS": "5", "AT": "nowhere"},
            "DOGXRAY_INJECT_AT must be one of call_dog_api, save_dog_to_s3",
        ),
    ],
)
def test_a_bad_setting_turns_injection_off_with_a_log_line(
    make_lab: Callable[[], Lab],
    env: dict[str, str],
    error: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    lab = make_lab()
    settings = lab.module.injection.from_env({f"DOGXRAY_INJECT_{k}": v for k, v in env.items()})
    assert not settings.active
    assert capsys.readouterr().out == f'{{"injection": "off", "error": "{error}"}}\n'
