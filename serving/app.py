"""The FastAPI application factory.

    app = create_app(load_settings(workspace))          # what ``outreach serve`` runs

Routes (see ``docs/api.md``): ``/healthz``, ``/readyz``, ``/metrics`` and the JSON API under
``/api/v1`` (lists, households, outcomes, corrections, audit log, model and model card), with
an OpenAPI document at ``/openapi.json``. Every API route requires a bearer token; errors are
problem responses (:mod:`serving.api.problems`). The web pages of a later step mount beside the API
(``serving/pages/``) on the same app and the same :class:`~serving.runtime.service.Service`.

No route reduces, suspends or reclaims a benefit: the service proposes visits and records what
caseworkers found; every list states that purpose.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from core.files import loose_paths
from core.settings import Settings
from serving import pages
from serving.api import (
    auditing,
    docs,
    headers,
    households,
    limits,
    lists,
    model_card,
    ops,
    prepared,
    problems,
    records,
)
from serving.runtime.modelswap import ChampionWatcher
from serving.runtime.service import Service, ServiceOptions

logger = logging.getLogger("outreach.service")
TITLE = "Outreach service"
DESCRIPTION = (
    "Visit lists, household explanations and eligibility, visit outcomes and corrections, "
    "and the audit log. For proposing help only: never a ground to reduce, suspend or reclaim "
    "a benefit. Households are named by pseudonymous references; every read of personal data "
    "is audited."
)


def warn_about_loose_files(settings: Settings) -> list[str]:
    """Warn (one log line) when workspace files holding personal data are open to the group or
    others; returns the paths named (relative to the workspace)."""
    loose = [p.relative_to(settings.workspace).as_posix() or "." for p in
             loose_paths(settings.workspace, limit=5)]  # fmt: skip
    if loose:
        logger.warning(
            "workspace files readable by others (personal data: make them owner-only, e.g. "
            "chmod -R go-rwx): %s",
            ", ".join(loose),
        )
    return loose


def create_app(
    settings: Settings,
    options: ServiceOptions | None = None,
    watcher: ChampionWatcher | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> FastAPI:
    """Build the application for a workspace.

    Args:
        settings: the workspace settings (service database, models, snapshots, warehouse).
        options: service tuning (poll interval, caches, token cache).
        watcher: a champion watcher to use instead of the registry's (tests).
        clock: the service's "now" (tz-aware), behind the visit-date rule and the recording
            time of outcomes (default: the wall clock; see :class:`Service`).
    """
    service = Service(settings, options, watcher, clock)
    service.on_new_run(lambda run: lists.prewarm(service, run))  # lists ready before asked

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        warn_about_loose_files(settings)
        service.acquire()
        try:
            yield
        finally:
            service.release()

    documented = settings.service.api_docs
    app = FastAPI(
        title=TITLE, description=DESCRIPTION, version="1", lifespan=lifespan, docs_url=None,
        redoc_url=None, openapi_url="/openapi.json" if documented else None,
    )  # fmt: skip
    app.state.service = service
    problems.install(app)
    app.include_router(ops.router)
    app.include_router(ops.me_router)
    app.include_router(lists.router)
    app.include_router(households.router)
    app.include_router(records.router)
    app.include_router(auditing.router)
    app.include_router(model_card.router)
    if documented:
        docs.install(app)  # packaged Swagger UI under the pages' CSP
    pages.install(app)  # the web pages (docs/web.md), after the API
    app.add_middleware(
        prepared.PreparedReads,
        service=service,
        routes=[*lists.router.routes, *households.router.routes],
    )
    app.add_middleware(limits.Limits, service=service)  # body cap, auth first, rate limits
    app.add_middleware(headers.SecurityHeaders)  # also on the limits' own refusals
    app.add_middleware(problems.RequestContext, metrics=service.metrics)
    if settings.service.trusted_proxies:  # outermost: every layer sees the client's scheme
        app.add_middleware(
            ProxyHeadersMiddleware, trusted_hosts=list(settings.service.trusted_proxies)
        )
    return app
