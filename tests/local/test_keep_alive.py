"""The emulator's HTTP server keeps a client's connection open between calls (HTTP/1.1):
werkzeug's own handler closes every connection after one answer."""

from __future__ import annotations

import http.client
import json

from dogxray.local.moto_server import loopback_moto_server

SIGNED = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20261204/us-east-1/xray/"
    "aws4_request, SignedHeaders=host, Signature=x",
    "Content-Type": "application/json",
}


def test_one_connection_answers_several_requests() -> None:
    with loopback_moto_server() as url:
        host, port = url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            sockets = set()
            for body in (
                {"TraceIds": ["1-00000001-000000000000000000000001"]},
                {},
                {"x": "y" * 5000},
            ):
                conn.request("POST", "/Traces", body=json.dumps(body), headers=SIGNED)
                answer = conn.getresponse()
                answer.read()
                sockets.add(id(conn.sock))
                assert answer.getheader("Connection") != "close" and not answer.will_close
            assert len(sockets) == 1  # the same socket answered every request
        finally:
            conn.close()
