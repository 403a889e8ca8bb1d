"""Fixtures for the logs tests: an `Aws` on in-process moto, and helpers to write log
events the way Lambda (and the emulator) does."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "traces"))  # for `tracedocs`


@pytest.fixture
def aws_mock() -> Iterator[Any]:
    from moto import mock_aws

    from dogxray.core.aws import Aws
    from dogxray.core.config import Settings

    with mock_aws():
        yield Aws(Settings.from_options(region="us-east-1"))
