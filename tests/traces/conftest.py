"""Fixtures for the trace tests: recorded documents, moto X-Ray, an Aws for it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # for `tracedocs`

from tracedocs import load


@pytest.fixture
def recorded() -> Any:
    return load


@pytest.fixture
def aws_mock() -> Iterator[Any]:
    """An `Aws` on in-process moto (no endpoint: behaves like real AWS for scoping)."""
    from moto import mock_aws

    from dogxray.core.aws import Aws
    from dogxray.core.config import Settings

    with mock_aws():
        yield Aws(Settings.from_options(region="us-east-1"))
