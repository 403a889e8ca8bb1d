"""--endpoint-url at an HTTP server that is not AWS (a web page, garbage, a moto server
lacking an operation) says so in one message with a hint: no "internal error", no raw
HTML page as the message."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError
from typer.testing import CliRunner

from dogxray.app import app
from dogxray.core.endpoint_check import NOT_AWS_HINT
from dogxray.core.explain import explain

# Python's http.server error page (not well-formed XML: the <meta> is not closed) ...
HTML = (
    b'<!DOCTYPE HTML>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
    b"<title>Error response</title>\n</head>\n<body><h1>Error response</h1></body>\n</html>\n"
)
# ... and a page that happens to be well-formed XML (the XML parser reads it)
XHTML = b"<!DOCTYPE html>\n<html><head><title>Hello</title></head><body>hi</body></html>\n"


def _server(status: int, body: bytes, content_type: str) -> Callable[[], Iterator[str]]:
    """A loopback HTTP server answering every request with `status` and `body`."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _answer

        def log_message(self, format: str, *args: object) -> None:
            return

    def serve() -> Iterator[str]:
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{httpd.server_address[1]}"
        finally:
            httpd.shutdown()
            httpd.server_close()

    return serve


html_server = pytest.fixture(_server(501, HTML, "text/html"))
xhtml_server = pytest.fixture(_server(200, XHTML, "text/html; charset=utf-8"))
garbage_server = pytest.fixture(_server(200, b"\x00\x01garbage\xff", "application/octet-stream"))


@pytest.mark.slow
def test_status_against_a_web_server(html_server: str) -> None:
    result = CliRunner().invoke(app, ["--endpoint-url", html_server, "status"])
    assert result.exit_code == 2, result.output
    assert result.output == (
        f"error: {html_server} is not an AWS endpoint: it answered an HTML page\n"
        f"hint: {NOT_AWS_HINT}\n"
    )


@pytest.mark.slow
def test_status_against_a_well_formed_page(xhtml_server: str) -> None:
    result = CliRunner().invoke(app, ["--endpoint-url", xhtml_server, "status"])
    assert result.exit_code == 2, result.output
    assert result.output == (
        f"error: {xhtml_server} is not an AWS endpoint: it does not answer AWS API calls "
        "as AWS does\n"
        f"hint: {NOT_AWS_HINT}\n"
    )


@pytest.mark.slow
def test_traces_against_a_web_server_names_the_call(html_server: str) -> None:
    result = CliRunner().invoke(app, ["--endpoint-url", html_server, "traces"])
    assert result.exit_code == 2, result.output
    assert result.output == (
        f"error: {html_server} is not an AWS endpoint: it answered GetTraceSummaries with "
        "an HTML page (HTTP 501)\n"
        f"hint: {NOT_AWS_HINT}\n"
    )
    assert "<html" not in result.output.lower()


@pytest.mark.slow
def test_status_against_a_server_answering_garbage(garbage_server: str) -> None:
    result = CliRunner().invoke(app, ["--endpoint-url", garbage_server, "status"])
    assert result.exit_code == 2, result.output
    assert result.output == (
        f"error: {garbage_server} is not an AWS endpoint: it answered an answer that is no "
        "AWS response\n"
        f"hint: {NOT_AWS_HINT}\n"
    )


def test_a_moto_server_lacking_an_operation_is_named_as_such(moto_server: str) -> None:
    xray = boto3.client("xray", endpoint_url=moto_server, region_name="us-east-1")
    with pytest.raises(ClientError) as caught:
        xray.get_indexing_rules()  # moto answers its web framework's 404 page
    error = explain(caught.value, endpoint_url=moto_server)
    assert error is not None and error.exit_code == 1
    assert error.what == (
        f"the endpoint {moto_server} does not implement GetIndexingRules: it answered "
        "GetIndexingRules with an HTML page (HTTP 404)"
    )
    assert error.hint == (
        "it serves only part of the AWS API: run this command on dogxray's emulator "
        "(`dogxray local`) or on AWS"
    )


def test_aws_answers_without_a_body_stay_as_they_were() -> None:
    head_404 = ClientError(
        {
            "Error": {"Code": "404", "Message": "Not Found"},
            "ResponseMetadata": {
                "HTTPStatusCode": 404,
                "HTTPHeaders": {"x-amz-request-id": "ABC", "x-amz-id-2": "xyz"},
            },
        },
        "HeadBucket",
    )
    error = explain(head_404)
    assert error is not None and error.what == "404: Not Found"


def test_an_unreadable_answer_from_aws_itself_suggests_a_proxy() -> None:
    parser_error = ResponseParserError(
        "Unable to parse response (syntax error), invalid XML received. Further retries "
        "may succeed:\nb'<html><body>Please log in to the hotel Wi-Fi</body></html>'"
    )
    error = explain(parser_error)
    assert error is not None and error.exit_code == 1
    assert error.what == "the answer from AWS could not be read: it answered an HTML page"
    assert error.hint is not None and "proxy" in error.hint
