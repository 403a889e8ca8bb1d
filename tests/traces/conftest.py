"""Fixtures for the trace tests: recorded documents (moto X-Ray and its `Aws`: the
`aws_mock` fixture of tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.traces.tracedocs import load


@pytest.fixture
def recorded() -> Any:
    return load
