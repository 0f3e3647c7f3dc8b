"""Security headers of every response (pure ASGI middleware: no per-request task or copy).

Every response carries ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``,
``X-Frame-Options: DENY`` and a content security policy:

- pages, their static files and the API document (``/docs``, served from packaged Swagger UI
  assets, no CDN: :mod:`serving.api.docs`) get :data:`CSP`: everything from this origin only,
  no inline script or style, no framing, forms post only here;
- the JSON API and the operations routes (``/api/``, ``/openapi.json``, ``/healthz``,
  ``/readyz``, ``/metrics``) get :data:`API_CSP`, which allows nothing (a JSON answer opened in
  a browser runs nothing and cannot be framed).

``Cache-Control: no-store`` on everything (answers carry personal data), unless a response set
its own; static files and the packaged document assets get ``no-cache`` (revalidated by ETag).
``Strict-Transport-Security`` (one year) when the request came over https: directly, or through
a trusted proxy saying so (``[service] trusted_proxies``; the proxy-headers middleware has set
the scheme before this one runs).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
HSTS = b"max-age=31536000"
MACHINE = ("/api/", "/openapi.json", "/healthz", "/readyz", "/metrics")
"""Paths answered in JSON or plain text, never as a page."""
CACHEABLE = ("/static/", "/docs/assets/")
_COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    """Add the headers above to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        csp = API_CSP if path.startswith(MACHINE) else CSP
        cache = b"no-cache" if path.startswith(CACHEABLE) else b"no-store"
        extra = [(b"content-security-policy", csp.encode()), *_COMMON]
        if scope.get("scheme") == "https":
            extra.append((b"strict-transport-security", HSTS))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in extra if k not in names]
                if b"cache-control" not in names:
                    headers.append((b"cache-control", cache))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
