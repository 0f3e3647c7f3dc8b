"""Operations: ``/healthz`` (the process answers), ``/readyz`` (the database answers and a model
is loaded), ``/metrics`` (Prometheus text: to direct loopback callers, or anywhere with the
metrics token), and ``/api/v1/me`` (who the token is)."""

from __future__ import annotations

import hmac
import ipaddress

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from core.settings import Settings
from serving.api.common import API, ERRORS
from serving.api.deps import PrincipalDep, ServiceDep
from serving.api.problems import ApiError
from serving.api.schemas import Health, Me, Ready
from serving.runtime import auth
from serving.runtime.metrics import CONTENT_TYPE

FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")

router = APIRouter(tags=["operations"])
me_router = APIRouter(prefix=API, tags=["operations"], responses=ERRORS)


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """Liveness: the process answers."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Ready,
    responses={503: {"model": Ready, "description": "not ready"}},
)
def readyz(service: ServiceDep) -> Response:
    """Readiness: the database answers and a champion model is loaded."""
    try:
        with service.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        database = True
    except sa.exc.SQLAlchemyError:
        database = False
    ref = service.watcher.current()
    run = service.run()
    ready = database and ref is not None
    body = Ready(
        status="ready" if ready else "not_ready",
        database=database,
        champion_version=ref.version if ref else None,
        latest_run_id=run.run_id if run else None,
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if ready else 503)


def may_read_metrics(request: Request, settings: Settings) -> bool:
    """Whether the caller may read ``/metrics``: it presents the metrics token
    (``OUTREACH_METRICS_TOKEN``), or it is a loopback address that came through no proxy (a
    request carrying forwarding headers is a proxy's, whoever sent it)."""
    given = auth.bearer(request.headers.get("authorization"))
    if settings.metrics_token is not None and given:
        expected = settings.metrics_token.get_secret_value().encode("utf-8")
        return hmac.compare_digest(given.encode("utf-8"), expected)
    if any(name in request.headers for name in FORWARDING_HEADERS):
        return False
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        403: {"description": "not a loopback caller and no metrics token"},
    },
)
async def metrics(request: Request, service: ServiceDep) -> Response:
    """Prometheus metrics (no personal data: routes are labelled by template), for loopback
    callers or a scraper holding the metrics token (``Authorization: Bearer …``)."""
    if not may_read_metrics(request, service.settings):
        raise ApiError(403, "metrics are served to loopback callers or with the metrics token",
                       reason="metrics")  # fmt: skip
    return Response(service.metrics.render(), media_type=CONTENT_TYPE)


@me_router.get("/me", response_model=Me)
async def me(principal: PrincipalDep) -> Me:
    """The caller's token: id, holder, role, jurisdiction and expiry."""
    return Me(
        token_id=principal.token_id,
        holder=principal.holder,
        role=principal.role,
        jurisdiction_code=principal.jurisdiction,
        expires_at=principal.expires_at,
    )
