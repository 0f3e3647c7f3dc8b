"""Errors as RFC 9457 problem responses, and the request-id / metrics middleware.

Every 4xx is ``application/problem+json`` with one clear ``detail`` and the request id (also
in the ``X-Request-ID`` header). Validation errors name the field and the rule, never the value
sent. There is deliberately no catch-all handler: an unexpected exception is a bug, and tests
(schemathesis) must see it.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import OutreachError
from serving.runtime.audit import AuditWriteError
from serving.runtime.metrics import Metrics

PROBLEM = "application/problem+json"
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

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers


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
        return problem(request, exc.status, exc.detail, exc.headers)

    app.add_exception_handler(StarletteHTTPException, http_error)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        return problem(request, 422, _validation_detail(exc))

    @app.exception_handler(OutreachError)
    async def _user_error(request: Request, exc: OutreachError):
        return problem(request, 400, str(exc))

    @app.exception_handler(AuditWriteError)
    async def _audit_down(request: Request, exc: AuditWriteError):
        return problem(request, 503, "the audit log cannot be written; nothing was served")


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
