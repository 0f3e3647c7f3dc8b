"""Operations: ``/healthz`` (the process answers), ``/readyz`` (the database answers and a model
is loaded), ``/metrics`` (Prometheus text), and ``/api/v1/me`` (who the token is)."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from serving.api.common import API, ERRORS
from serving.api.deps import PrincipalDep, ServiceDep
from serving.api.schemas import Health, Me, Ready
from serving.runtime.metrics import CONTENT_TYPE

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


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics(service: ServiceDep) -> Response:
    """Prometheus metrics (no personal data: routes are labelled by template)."""
    return Response(service.metrics.render(), media_type=CONTENT_TYPE)


@me_router.get("/me", response_model=Me)
async def me(principal: PrincipalDep) -> Me:
    """The caller's token: id, role, jurisdiction and expiry."""
    return Me(
        token_id=principal.token_id,
        role=principal.role,
        jurisdiction_code=principal.jurisdiction,
        expires_at=principal.expires_at,
    )
