"""Runtime rules from AWS's lifecycle table: deprecated accepted with a warning, blocked
refused with its date, unknown refused, newer-than-the-table accepted, default unchanged."""

from __future__ import annotations

from datetime import date

import pytest

from dogxray.core import runtimes
from dogxray.core.config import DEFAULT_RUNTIME
from dogxray.core.errors import DogxrayError

NOV_2026 = date(2026, 11, 23)


def test_default_is_python313() -> None:
    assert DEFAULT_RUNTIME == runtimes.DEFAULT_RUNTIME == "python3.13"
    assert runtimes.validate(DEFAULT_RUNTIME, NOV_2026) == "python3.13"
    assert runtimes.warning(DEFAULT_RUNTIME, NOV_2026) is None


@pytest.mark.parametrize(
    ("runtime", "deprecated", "create", "update"),
    [
        ("python3.8", "2024-10-14", "2027-02-01", "2027-03-03"),
        ("python3.9", "2025-12-15", "2027-02-01", "2027-03-03"),
        ("python3.10", "2026-10-31", "2027-02-01", "2027-03-03"),
    ],
)
def test_deprecated_but_creatable_is_accepted_with_its_dates(
    runtime: str, deprecated: str, create: str, update: str
) -> None:
    assert runtimes.validate(runtime, NOV_2026) == runtime
    assert runtimes.warning(runtime, NOV_2026) == (
        f"warning: {runtime} is deprecated since {deprecated} (no more security patches); "
        f"Lambda blocks creating functions with it from {create} and updating them from "
        f"{update}; python3.13 is the default"
    )


def test_python311_is_deprecated_only_from_its_date() -> None:
    assert runtimes.warning("python3.11", NOV_2026) is None
    assert "deprecated since 2027-06-30" in str(runtimes.warning("python3.11", date(2027, 7, 1)))
    with pytest.raises(DogxrayError, match="blocked since 2027-07-31"):
        runtimes.validate("python3.11", date(2027, 7, 31))


@pytest.mark.parametrize(
    ("runtime", "blocked", "deprecated"),
    [
        ("python2.7", "2021-07-15", "2021-07-15"),
        ("python3.6", "2022-07-18", "2022-07-18"),
        ("python3.7", "2024-01-09", "2023-12-04"),
    ],
)
def test_blocked_is_refused_naming_the_date(runtime: str, blocked: str, deprecated: str) -> None:
    with pytest.raises(DogxrayError) as info:
        runtimes.validate(runtime, NOV_2026)
    assert info.value.exit_code == 2
    assert info.value.what == (
        f"Lambda no longer creates functions with {runtime}: creation is blocked since "
        f"{blocked} (deprecated {deprecated})"
    )
    assert info.value.hint == (
        "use python3.13 (the default) or another of python3.8, python3.9, python3.10, "
        "python3.11, python3.12, python3.13, python3.14"
    )


@pytest.mark.parametrize("runtime", ["python4.0", "python3", "nodejs22.x", "python3.13 ", ""])
def test_unknown_is_refused(runtime: str) -> None:
    with pytest.raises(DogxrayError) as info:
        runtimes.validate(runtime, NOV_2026)
    assert info.value.exit_code == 2 and info.value.what == f"unknown runtime {runtime!r}"


def test_a_python_newer_than_the_table_is_left_to_lambda() -> None:
    """botocore already lists python3.15; Lambda, not our table, decides on it."""
    assert runtimes.validate("python3.15", NOV_2026) == "python3.15"
    assert runtimes.warning("python3.15", NOV_2026) is None


def test_every_runtime_botocore_knows_is_in_the_table_or_newer() -> None:
    import botocore.session

    model = botocore.session.get_session().get_service_model("lambda")
    pythons = [r for r in model.shape_for("Runtime").enum if r.startswith("python")]
    for runtime in pythons:
        if runtime not in runtimes.LIFECYCLE:
            assert runtimes.validate(runtime, NOV_2026) == runtime
