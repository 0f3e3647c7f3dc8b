"""The web pages for caseworkers, supervisors, auditors and data scientists (see ``docs/web.md``).

Served by the API's application on the same :class:`~serving.runtime.service.Service` (roles, areas,
audit log), in Chinese by default with an English switch, usable on a phone and printable:

- :mod:`~serving.pages.signin`: sign-in with an API token (cookie session), sign-out, home;
- :mod:`~serving.pages.lists`: the township index, visit lists, CSV/XLSX exports, print sheets;
- :mod:`~serving.pages.coverage`: coverage per township and village (page and CSV);
- :mod:`~serving.pages.households`: the household page, its outcome and correction forms;
- :mod:`~serving.pages.audit`, :mod:`~serving.pages.model_page` and
  :mod:`~serving.pages.linkage_page`: auditor pages.

:func:`install` adds them to an app after the API's routers. Page routes are left out of the
OpenAPI document (they speak HTML and cookies, not the API's JSON and bearer tokens).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from serving.api import problems
from serving.pages import (
    audit,
    coverage,
    households,
    linkage_page,
    lists,
    model_page,
    signin,
    twin_page,
)
from serving.pages.web import (
    STATIC_DIR,
    PageError,
    Pages,
    SignInRequired,
    error_page,
    not_found,
)
from serving.pages.web import signin_redirect as _signin_redirect

ROUTERS = (
    signin.router, lists.router, coverage.router, households.router, audit.router,
    model_page.router, twin_page.router, linkage_page.router,
)  # fmt: skip
MACHINE_PATHS = ("/api/", "/healthz", "/readyz", "/metrics", "/docs", "/redoc", "/openapi.json")
"""Paths whose errors stay problem+json whatever the client accepts."""


def wants_page(request: Request) -> bool:
    """Whether an error should be an HTML page: a browser's request outside the API."""
    path = request.url.path
    return not path.startswith(MACHINE_PATHS) and "text/html" in request.headers.get("accept", "")


def install(app: FastAPI) -> None:
    """Mount the pages, their static files and error pages on ``app`` (the security headers
    are the app's, :mod:`serving.api.headers`)."""
    service = app.state.service
    app.state.pages = Pages(service.settings, service.engine, service.options.token_cache_seconds)
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.exception_handler(PageError)
    async def _page_error(request: Request, exc: PageError):
        return error_page(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _unknown_path(request: Request, exc: StarletteHTTPException):
        # a browser asking for a page that does not exist gets the pages' 404, not JSON
        if exc.status_code == 404 and wants_page(request):
            return error_page(request, not_found())
        return await problems.http_error(request, exc)

    @app.exception_handler(SignInRequired)
    async def _signin(request: Request, exc: SignInRequired):
        return _signin_redirect(request)
