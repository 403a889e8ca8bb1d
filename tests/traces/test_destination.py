"""GetTraceSegmentDestination refused for lack of permission is not "not implemented":
one warning line that names the permission, then X-Ray is read as usual."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.stub import Stubber

import dogxray.traces.fetch as fetch
from dogxray.core.aws import Aws
from dogxray.core.config import Settings


@pytest.fixture
def stubbed() -> Iterator[tuple[Aws, Stubber]]:
    aws = Aws(Settings.from_options(region="us-east-1"))
    with Stubber(aws.client("xray")) as stub:
        yield aws, stub
        stub.assert_no_pending_responses()


def test_access_denied_warns_once_and_carries_on(stubbed: tuple[Aws, Stubber]) -> None:
    aws, stub = stubbed
    stub.add_client_error(
        "get_trace_segment_destination",
        "AccessDeniedException",
        "User: arn:aws:iam::123456789012:user/learner is not authorized to perform: "
        "xray:GetTraceSegmentDestination",
        http_status_code=403,
    )
    said: list[str] = []
    fetch.Fetcher(aws, warn=said.append).check_destination()
    assert said == [
        "warning: your identity lacks xray:GetTraceSegmentDestination, so dogxray cannot "
        "check for Transaction Search; reading traces from X-Ray anyway"
    ]


def test_an_endpoint_without_the_api_is_silent(stubbed: tuple[Aws, Stubber]) -> None:
    aws, stub = stubbed
    stub.add_client_error(
        "get_trace_segment_destination", "UnknownOperationException", http_status_code=404
    )
    said: list[str] = []
    fetch.Fetcher(aws, warn=said.append).check_destination()
    assert said == []


@pytest.mark.slow
def test_without_a_warn_the_fetcher_prints_nothing(
    stubbed: tuple[Aws, Stubber], capsys: pytest.CaptureFixture[str]
) -> None:
    """Service code does not print: the warning reaches the terminal only through the
    `warn` the command layer passes (`render.progress`)."""
    aws, stub = stubbed
    stub.add_client_error(
        "get_trace_segment_destination", "AccessDeniedException", http_status_code=403
    )
    fetch.Fetcher(aws).check_destination()
    assert capsys.readouterr() == ("", "")
