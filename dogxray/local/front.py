"""The emulator's front: one WSGI application in front of moto's, where every answer
the emulator gives differently from moto is routed (moto itself is not patched for
them). A route names the service the request is signed for, the method and the path;
its handler answers alone or forwards to moto and adjusts moto's answer. Every other
request goes to moto unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from dogxray.core.config import EMULATOR_MARKER_PATH
from dogxray.local import account_settings, alarms, lambda_api, marker, xray_service
from dogxray.local import transaction_search as search
from dogxray.local.wsgi import Reply, Request, State, WsgiApp

Handler = Callable[[State, Request], Reply]
_FUNCTION = r"/\d{4}-\d{2}-\d{2}/functions/(?P<name>[^/]+)"

# (signed for, method or "" for any, path, handler)
ROUTES: tuple[tuple[str, str, re.Pattern[str], Handler], ...] = tuple(
    (service, method, re.compile(f"^{path}/?$"), handler)
    for service, method, path, handler in (
        ("", "GET", re.escape(EMULATOR_MARKER_PATH), marker.answer),
        ("lambda", "GET", r"/\d{4}-\d{2}-\d{2}/account-settings", account_settings.answer),
        ("lambda", "POST", _FUNCTION + "/invocations", lambda_api.invoke),
        ("lambda", "PUT", _FUNCTION + "/(?:configuration|code)", lambda_api.changed),
        ("lambda", "DELETE", _FUNCTION, lambda_api.changed),
        ("lambda", "", _FUNCTION + "/urls?", lambda_api.url_config),
        ("lambda", "GET", _FUNCTION + "/policy", lambda_api.policy),
        ("xray", "POST", "/ServiceGraph", xray_service.service_graph_api),
        ("xray", "POST", "/TraceGraph", xray_service.trace_graph_api),
        ("xray", "POST", "/Traces", search.batch_get_traces),
        ("xray", "POST", "/TraceSummaries", search.summaries),
        ("xray", "POST", "/TraceSegments", search.put_segments),
        ("xray", "POST", "/GetTraceSegmentDestination", search.get_destination),
        ("xray", "POST", "/UpdateTraceSegmentDestination", search.update_destination),
        ("xray", "POST", "/GetIndexingRules", search.get_indexing_rules),
        ("xray", "POST", "/UpdateIndexingRule", search.update_indexing_rule),
        ("xray", "POST", "/StartTraceRetrieval", search.start_retrieval),
        ("xray", "POST", "/ListRetrievedTraces", search.list_retrieved),
        ("xray", "POST", "/GetRetrievedTracesGraph", search.retrieved_graph),
        ("xray", "POST", "/CancelTraceRetrieval", search.cancel_retrieval),
        ("monitoring", "POST", "", alarms.cloudwatch_api),  # JSON protocol: X-Amz-Target
    )
)


class Front:
    """`Front(moto_app, state)`: a WSGI application; `state` is read per request, so the
    runtime can be attached once it has started."""

    def __init__(self, app: WsgiApp, state: State) -> None:
        self.app = app
        self.state = state

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
        signed = None
        for service, wanted, pattern, handler in ROUTES:
            if wanted and wanted != method:
                continue
            match = pattern.match(path)
            if match is None:
                continue
            req = Request(environ, self.app, match.groupdict())
            signed = req.service if signed is None else signed
            if signed == service:
                return handler(self.state, req).send(start_response)
        return self.app(environ, start_response)
