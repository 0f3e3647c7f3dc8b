"""Prepared reads: the two hot GET routes answered without FastAPI's per-request machinery.

A profile of ``bench/bench_service.py`` (py-spy, docs/api.md "Performance") showed that a
visit list already served as prepared bytes spends about two thirds of its time in the
framework around the route: routing, dependency solving, the exit stack and the exception
layer. :class:`PreparedReads` (pure ASGI, the innermost middleware: inside the body cap, the
token check first, the rate limits, the security headers and the request id) answers

- ``GET /api/v1/lists/{jurisdiction_code}`` without a query, when the list is prepared
  (:func:`serving.api.lists.prepared_list`), and
- ``GET /api/v1/households/{household_ref}/score``, when the score is answerable from memory
  (:func:`serving.api.households.quick_score`),

for a caller whose token the service verified less than ``token_cache_seconds`` ago, with the
routes' own functions: the same checks (role, area), the same bytes and headers, and the same
audit row, committed before the answer (a 503 when it cannot be, as the routes give). Anything
else (a query, an unknown or malformed path, a role or area refused, a list not prepared, a
token not in the cache, any error) falls through to the route, which gives its answers and its
refusal rows. ``ServiceOptions.prepared_reads`` turns it off (then every request takes the
route; ``tests/unit/test_service_prepared.py`` compares the two).
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from serving.api.common import API, audit_async
from serving.api.households import quick_score, read_event
from serving.api.lists import list_read, prepared_list
from serving.api.problems import UNAVAILABLE, unavailable
from serving.runtime import auth
from serving.runtime.audit import AuditWriteError

LIST_PATH = re.compile(rf"{API}/lists/([0-9]{{9}}(?:[0-9]{{3}})?)")
SCORE_PATH = re.compile(rf"{API}/households/(H[0-9a-f]{{24}})/score")
LIST_ROUTE = f"{API}/lists/{{jurisdiction_code}}"
SCORE_ROUTE = f"{API}/households/{{household_ref}}/score"
_JSON = (b"content-type", b"application/json")
_GZIP = [(b"content-encoding", b"gzip"), (b"vary", b"Accept-Encoding")]


class PreparedReads:
    """See the module docstring. ``routes``: the lists and households routes (metrics names)."""

    def __init__(self, app: ASGIApp, service, routes: list) -> None:
        self.app = app
        self.service = service
        by_path = {getattr(r, "path", None): r for r in routes}
        self.list_route, self.score_route = by_path[LIST_ROUTE], by_path[SCORE_ROUTE]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or scope.get("query_string")
            or not self.service.options.prepared_reads
            or not await self._answered(scope, receive, send)
        ):
            await self.app(scope, receive, send)

    async def _answered(self, scope: Scope, receive: Receive, send: Send) -> bool:
        path = scope.get("path", "")
        listed = LIST_PATH.fullmatch(path)
        scored = None if listed else SCORE_PATH.fullmatch(path)
        if listed is None and scored is None:
            return False
        token = gzip_ok = None
        for name, value in scope["headers"]:
            if name == b"authorization" and token is None:
                token = auth.bearer(value.decode("latin-1"))
            elif name == b"accept-encoding" and gzip_ok is None:
                gzip_ok = b"gzip" in value
        service = self.service
        principal = service.cached_principal(token) if token else None
        if principal is None:
            return False
        rid = str((scope.get("state") or {}).get("request_id") or "")
        if listed is not None:
            code = listed.group(1)
            found = prepared_list(service, principal, code, bool(gzip_ok))
            if found is None:
                return False
            run, body = found
            route, row = self.list_route, list_read(principal, rid, run, code, None)
            scope["path_params"] = {"jurisdiction_code": code}
            headers = [*(_GZIP if gzip_ok else ()), (b"content-length", b"%d" % len(body)), _JSON]
        else:
            ref = scored.group(1)
            quick = quick_score(service, principal, ref)
            if quick is None:
                return False
            version, body = quick
            route, row = (
                self.score_route,
                read_event(principal, rid, "household_score", ref, version),
            )
            scope["path_params"] = {"household_ref": ref}
            headers = [(b"content-length", b"%d" % len(body)), _JSON]
        scope["route"] = route  # the metrics' route name, as when routed
        try:
            await audit_async(service, row)
        except (AuditWriteError, *UNAVAILABLE) as exc:  # as the routes' handlers answer
            await unavailable(Request(scope), exc)(scope, receive, send)
            return True
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return True
