"""Errors as RFC 9457 problem responses, and the request-id / metrics middleware.

Every 4xx is ``application/problem+json`` with one clear ``detail`` and the request id (also
in the ``X-Request-ID`` header). Validation errors name the field and the rule, never the value
sent. There is deliberately no catch-all handler: an unexpected exception is a bug, and tests
(schemathesis) must see it.
"""

from __future__ import annotations

import concurrent.futures
import logging
import re
import secrets
import time
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import OutreachError
from serving.runtime.audit import AuditWriteError
from serving.runtime.metrics import Metrics

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"
UNAVAILABLE: tuple[type[Exception], ...] = (
    sa.exc.OperationalError,  # locked (busy timeout passed), disk I/O, server gone
    sa.exc.InterfaceError,  # connection lost
    sa.exc.TimeoutError,  # no pooled connection within the pool timeout
    concurrent.futures.TimeoutError,  # an audit commit not confirmed within the wait
    TimeoutError,
)
"""Errors that mean "the database cannot answer now": 503 with ``Retry-After``."""
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    422: "Unprocessable Content",
    503: "Service Unavailable",
}


class ApiError(Exception):
    """A user-facing error with an HTTP status and a one-line message."""

    def __init__(
        self,
        status: int,
        detail: str,
        headers: dict[str, str] | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers
        self.reason = reason  # for the audit row of a refusal; never sent to the client


NOT_FOUND_HOUSEHOLD = "no such household"
NOT_FOUND_JURISDICTION = "no such jurisdiction"


def request_id(request: Request) -> str:
    """The id the middleware gave this request."""
    return str(getattr(request.state, "request_id", "") or "")


def problem(request: Request, status: int, detail: str, headers: dict[str, str] | None = None):
    """A problem response."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "request_id": request_id(request),
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _validation_detail(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "the request is invalid"
    first = errors[0]
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "request"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first.get('msg', 'invalid')}{more}"


async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """Starlette's own errors (an unknown path, a method not allowed) as problem responses."""
    detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "")
    if exc.status_code == 404:
        detail = "no such resource"
    return problem(request, exc.status_code, detail, getattr(exc, "headers", None))


def install(app: FastAPI) -> None:
    """Register the problem handlers on an app."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        if exc.status in (401, 403) or (exc.status in DENIED and exc.reason):
            record_denied(request, exc.status, exc.reason or DENIED[exc.status])
        return problem(request, exc.status, exc.detail, exc.headers)

    app.add_exception_handler(StarletteHTTPException, http_error)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        return problem(request, 422, _validation_detail(exc))

    @app.exception_handler(OutreachError)
    async def _user_error(request: Request, exc: OutreachError):
        return problem(request, 400, str(exc))

    async def _unavailable(request: Request, exc: Exception):
        return unavailable(request, exc)

    for kind in (AuditWriteError, *UNAVAILABLE):
        app.add_exception_handler(kind, _unavailable)


def unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The 503 of an audit row that cannot be written (:class:`AuditWriteError`) or a database
    that cannot answer (:data:`UNAVAILABLE`: locked, unreachable or too slow; a bounded wait,
    then 503, never a hang or a 500)."""
    if isinstance(exc, AuditWriteError):
        return problem(request, 503, "the audit log cannot be written; nothing was served")
    log.warning("database unavailable (%s) on %s", type(exc).__name__, _route(request))
    return problem(request, 503, "the database is unavailable; try again shortly",
                   {"Retry-After": "5"})  # fmt: skip


DENIED = {401: "token", 403: "role", 404: "not_found", 429: "rate_limited"}
"""Statuses recorded as ``denied`` audit rows, with their default reason."""
_CLAIMED = re.compile(r"otk_([0-9a-f]{10})_")


def client_address(request: Request) -> str:
    """The peer's address (the proxy's, unless the server trusts forwarded headers)."""
    return request.client.host if request.client else "unknown"


def record_denied(request: Request, status: int, reason: str, **extra: Any) -> None:
    """Append a capped ``denied`` audit row for this refusal (see :mod:`serving.runtime.denials`).

    The actor is the caller's token id when it was verified (403, 404); for a 401 the row says
    ``anonymous`` and keeps the token id the caller claimed, if the token was well-formed.
    """
    service = getattr(request.app.state, "service", None)
    if service is None:
        return
    principal = getattr(request.state, "principal", None)
    if principal is None:
        viewer = getattr(request.state, "viewer", None)
        principal = viewer.principal if viewer is not None else None
    address = client_address(request)
    if principal is not None:
        actor, role, key = principal.token_id, principal.role, f"token:{principal.token_id}"
    else:
        actor, role, key = "anonymous", "unknown", f"addr:{address}"
        claimed = _CLAIMED.search(request.headers.get("authorization", ""))
        if claimed:
            extra["claimed_token"] = claimed.group(1)
    params = request.scope.get("path_params") or {}
    ref = params.get("household_ref") or params.get("ref")
    code = params.get("jurisdiction_code") or params.get("code")
    service.denials.record(
        key=key, actor=actor, role=role, route=_route(request), status=status, reason=reason,
        request_id=request_id(request) or None,
        household_id=ref if isinstance(ref, str) and _REF.match(ref) else None,
        jurisdiction_code=code if isinstance(code, str) and code.isdigit() else None,
        extra={"client": address, **extra},
    )  # fmt: skip


_REF = re.compile(r"^H[0-9a-f]{24}$")


def _route(request: Request) -> str:
    """The route template of a request (also before routing: refusals in the middleware)."""
    route = request.scope.get("route")
    if route is None:  # not routed yet: find the template the path fits
        path = request.scope.get("path", "")
        for context in iter_route_contexts(getattr(request.scope.get("app"), "routes", [])):
            template = getattr(context, "path", None)
            if template and compile_path(template)[0].match(path):
                return template
    return getattr(route, "path", None) or "unmatched"


class RequestContext:
    """Pure ASGI middleware: a request id per request (``X-Request-ID``) and the metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = secrets.token_urlsafe(12)  # base64: no long digit runs in logs
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", None) or "unmatched"
            self.metrics.observe(name, scope["method"], status, time.perf_counter() - started)
