"""Abuse limits, before any body is read (pure ASGI middleware).

- **Body size**: a request whose ``Content-Length`` exceeds ``max_body`` is answered 413 before
  a byte of it is read; a body without a length (chunked) is counted as it arrives and cut off
  at the same size (413 when nothing was answered yet).
- **Authentication first on the API**: every ``/api/`` request's bearer token is verified
  before its body is read; a missing or invalid token answers 401 at once (and is a ``denied``
  audit row), so an anonymous 20 MB body or malformed JSON is never parsed.
- **Rate limits** (token buckets, answered 429 with ``Retry-After``): per client address for
  requests without a valid token on the API and for *failed* sign-in attempts (``POST /signin``
  answered anything but the 303 of a session: a caseworker signing in is never throttled, a
  guesser is), and per token on the API.
- **A database that cannot answer** while a token is checked here (outside the app's error
  handlers) answers 503 with ``Retry-After``, like the routes do, never a 500.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serving.api.problems import PROBLEM, TITLES, UNAVAILABLE, client_address, record_denied
from serving.runtime import auth

log = logging.getLogger(__name__)
TITLES.setdefault(413, "Content Too Large")
TITLES.setdefault(429, "Too Many Requests")


class Buckets:
    """Token buckets by key: ``rate`` per second, at most ``burst`` saved up."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self._clock = rate, burst, clock
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def wait(self, key: str) -> float:
        """0 when a token is there (none is taken), else the seconds until the next one."""
        now = self._clock()
        with self._lock:
            level, at = self._state.get(key, (self.burst, now))
            level = min(self.burst, level + (now - at) * self.rate)
        return 0.0 if level >= 1 else (1 - level) / self.rate

    def take(self, key: str) -> float:
        """0 when allowed (one token taken), else the seconds until the next token."""
        now = self._clock()
        with self._lock:
            level, at = self._state.get(key, (self.burst, now))
            level = min(self.burst, level + (now - at) * self.rate)
            if level >= 1:
                self._state[key] = (level - 1, now)
                allowed = 0.0
            else:
                self._state[key] = (level, now)
                allowed = (1 - level) / self.rate
            if len(self._state) > 50_000:  # forget full buckets
                self._state = {k: v for k, v in self._state.items() if v[0] < self.burst}
        return allowed


class _TooLarge(HTTPException):
    """Raised from ``receive`` (FastAPI re-raises HTTP exceptions met while reading a body)."""

    def __init__(self) -> None:
        super().__init__(413, "the request body is too large")


class Limits:
    """See the module docstring. ``service`` gives the token check and the options."""

    def __init__(self, app: ASGIApp, service) -> None:
        self.app = app
        self.service = service
        o = service.options
        self.max_body = o.max_body_bytes
        self.anonymous = Buckets(o.anonymous_per_minute / 60, o.anonymous_per_minute)
        self.per_token = (
            Buckets(o.token_requests_per_second, o.token_requests_per_second * 2)
            if o.token_requests_per_second
            else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        path, method = scope.get("path", ""), scope["method"]
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await self._problem(scope, send, 413, "the request body is too large")
            return
        if path.startswith("/api/"):
            token = auth.bearer(headers.get("authorization"))
            principal = None
            if token:
                principal = self.service.cached_principal(token)
                if principal is None:
                    try:
                        self.service.start()
                        principal = await self.service.principal_of(token)
                    except UNAVAILABLE as exc:  # outside the app's handlers: answer 503 here
                        log.warning("database unavailable (%s) checking a token",
                                    type(exc).__name__)  # fmt: skip
                        await self._problem(scope, send, 503, "the database is unavailable; "
                                            "try again shortly", {"Retry-After": "5"})  # fmt: skip
                        return
            if principal is None:
                wait = self.anonymous.take(client_address(Request(scope)))
                if wait:
                    await self._limited(scope, send, wait)
                    return
                record_denied(Request(scope), 401, "token")
                await self._problem(scope, send, 401, "a valid bearer token is required",
                                    {"WWW-Authenticate": "Bearer"})  # fmt: skip
                return
            if self.per_token is not None:
                wait = self.per_token.take(principal.token_id)
                if wait:
                    scope.setdefault("state", {})["principal"] = principal
                    await self._limited(scope, send, wait)
                    return
        elif path == "/signin" and method == "POST":
            address = client_address(Request(scope))
            wait = self.anonymous.wait(address)
            if wait:
                await self._limited(scope, send, wait)
                return
            status: list[int] = []

            async def watched(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status.append(message["status"])
                await send(message)

            await self._bounded(scope, receive, watched)
            if status[:1] != [303]:  # a failed attempt spends one of the address's tokens
                self.anonymous.take(address)
            return
        await self._bounded(scope, receive, send)

    async def _bounded(self, scope: Scope, receive: Receive, send: Send) -> None:
        seen, started = 0, False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise _TooLarge()
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if not started:
                await self._problem(scope, send, 413, "the request body is too large")

    async def _limited(self, scope: Scope, send: Send, wait: float) -> None:
        record_denied(Request(scope), 429, "rate_limited")
        await self._problem(scope, send, 429, "too many requests; slow down",
                            {"Retry-After": str(max(1, math.ceil(wait)))})  # fmt: skip

    async def _problem(self, scope: Scope, send: Send, status: int, detail: str,
                       headers: dict[str, str] | None = None) -> None:  # fmt: skip
        rid = (scope.get("state") or {}).get("request_id", "")
        body = {"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status,
                "detail": detail, "request_id": rid}  # fmt: skip
        response = JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)
        await response(scope, _drain, send)


async def _drain() -> Message:  # the body is never read
    return {"type": "http.disconnect"}
