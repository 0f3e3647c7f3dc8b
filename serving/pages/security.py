"""Security headers of the web pages (pure ASGI middleware: no per-request task or copy).

Every response outside the JSON API and its documentation (``/api/``, ``/docs``, ``/redoc``,
``/openapi.json``: Swagger UI loads its own scripts) carries the content security policy
(:data:`CSP`: everything from this origin only, no inline script or style, no framing, forms
post only here), ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` and
``X-Frame-Options: DENY``; pages get ``Cache-Control: no-store`` (they carry personal data)
unless they set their own, static files ``no-cache`` (revalidated by ETag).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
SKIP = ("/api/", "/docs", "/redoc", "/openapi.json")
_COMMON = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    """Add the headers above to every page and static response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if scope["type"] != "http" or path.startswith(SKIP):
            await self.app(scope, receive, send)
            return
        cache = b"no-cache" if path.startswith("/static/") else b"no-store"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in _COMMON if k not in names]
                if b"cache-control" not in names:
                    headers.append((b"cache-control", cache))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
