"""Visit lists: ``GET /api/v1/lists/{jurisdiction_code}``.

A list is the latest complete run's entries for a township (9 digits) or village (12 digits),
joined with the scores (model reasons), eligibility (programs, gaps, traces), the
low-confidence-link flag and what to verify. Responses are prepared once per (run, code,
capacity, identified) and served as bytes until a new run completes (see ``FIELD-NOTES``:
50 concurrent clients at p99 <= 50 ms need it). Every response states its purpose.
"""

from __future__ import annotations

import gzip
import logging
from typing import Annotated

import anyio.to_thread
import sqlalchemy as sa
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from serving.api.common import API, ERRORS, audit_async, event, jurisdiction_in_area, require
from serving.api.deps import PrincipalDep, RequestIdDep, ServiceDep
from serving.api.problems import NOT_FOUND_JURISDICTION, ApiError
from serving.api.responses import list_entry
from serving.api.schemas import JURISDICTION, VisitList
from serving.batch.priority import PURPOSE
from serving.runtime.auth import Principal
from serving.runtime.service import Service
from serving.store.db import AuditEvent, ScoreRun
from serving.store.queries import eligibility_rows, jurisdiction_exists, list_rows
from serving.store.tables import list_entries

router = APIRouter(prefix=API, tags=["lists"], responses=ERRORS)
log = logging.getLogger(__name__)


def prepare_list(
    service: Service, run: ScoreRun, code: str, capacity: int | None, identified: bool
) -> bytes | None:
    """The list's JSON bytes, or None when the run has no household in the jurisdiction."""
    with service.engine.connect() as conn:
        if not jurisdiction_exists(conn, run.run_id, code):
            return None
        rows = list_rows(conn, run.run_id, code)
        size = capacity if capacity is not None else len(rows)
        rows = rows[:size]
        elig = eligibility_rows(conn, run.run_id, [r["household_id"] for r in rows])
    ids = [r["household_id"] for r in rows]
    names = service.names.masked_names(ids, run.as_of) if identified else {}
    entries = [
        list_entry(i + 1, r, elig.get(r["household_id"], []), names.get(r["household_id"]))
        for i, r in enumerate(rows)
    ]
    body = VisitList(
        purpose=PURPOSE,
        run_id=run.run_id,
        as_of=run.as_of,
        model_version=run.model_version,
        jurisdiction_code=code,
        capacity=size,
        entries=entries,
    )
    return body.model_dump_json().encode("utf-8")


@router.get("/lists/{jurisdiction_code}", response_model=VisitList)
async def visit_list(
    jurisdiction_code: Annotated[
        str, Path(pattern=JURISDICTION, description="township (9 digits) or village (12 digits)")
    ],
    principal: PrincipalDep,
    service: ServiceDep,
    rid: RequestIdDep,
    request: Request,
    capacity: Annotated[
        int | None, Query(ge=1, le=500, description="entries wanted (default: the run's list)")
    ] = None,
) -> Response:
    """The visit list of a township or village from the latest complete run."""
    require(principal, "read")
    jurisdiction_in_area(principal, jurisdiction_code)
    run = service.run()
    if run is None:
        raise ApiError(404, NOT_FOUND_JURISDICTION, reason="not_found")
    if capacity is not None:
        capacity = min(capacity, service.options.max_capacity)
    gzip_ok = "gzip" in request.headers.get("accept-encoding", "")
    body = await cached_list(service, run, jurisdiction_code, capacity, principal, gzip_ok)
    await audit_async(service, list_read(principal, rid, run, jurisdiction_code, capacity))
    headers = GZIP_HEADERS if gzip_ok else None
    return Response(body, media_type="application/json", headers=headers)


GZIP_HEADERS = {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
"""The headers of a gzipped list (beside its length and type)."""


def list_read(
    principal: Principal, rid: str, run: ScoreRun, code: str, capacity: int | None
) -> AuditEvent:
    """The audit row of one list read."""
    return event(principal, rid, "read", "list", jurisdiction_code=code,
                 detail={"run_id": run.run_id, "capacity": capacity})  # fmt: skip


def prepared_list(
    service: Service, principal: Principal, code: str, gzip_ok: bool
) -> tuple[ScoreRun, bytes] | None:
    """The run and the prepared bytes of a full list (no ``capacity``) that this caller may read
    now, without waiting or building; None for anything else (no run, not prepared yet, a role
    or area the route refuses): the route then decides (:mod:`serving.api.prepared`)."""
    run = service.run()
    if run is None or not principal.may("read") or not principal.sees_jurisdiction(code):
        return None
    body = service.lists.get((run.run_id, code, None, principal.identified, gzip_ok))
    return None if body is None else (run, body)


async def cached_list(
    service: Service,
    run: ScoreRun,
    code: str,
    capacity: int | None,
    principal: Principal,
    gzip_ok: bool,
) -> bytes:
    """The list's prepared JSON bytes (gzipped when asked), built once per (run, code, capacity,
    identified); a 404 when the run has no household in the jurisdiction. The web pages use
    the same prepared lists."""
    key = (run.run_id, code, capacity, principal.identified, gzip_ok)
    body = service.lists.get(key)
    if body is None:
        body = await anyio.to_thread.run_sync(
            service.lists.build_once,
            key,
            lambda: _prepared(service, run, code, capacity, principal.identified, gzip_ok),
        )
        if body is None:
            raise ApiError(404, NOT_FOUND_JURISDICTION, reason="not_found")
    return body


def _prepared(
    service: Service, run: ScoreRun, code: str, capacity: int | None, identified: bool, gz: bool
) -> bytes | None:
    body = prepare_list(service, run, code, capacity, identified)
    if body is not None and gz:
        body = gzip.compress(body, compresslevel=6, mtime=0)
    return body


def prewarm(service: Service, run: ScoreRun) -> None:
    """Prepare every list of a run as identified callers fetch it (plain and gzip), so the
    first requests after a start or a new run do not queue behind their building."""
    q = sa.select(list_entries.c.jurisdiction_code).where(list_entries.c.run_id == run.run_id)
    try:
        with service.engine.connect() as conn:
            codes = sorted(set(conn.execute(q.distinct()).scalars()))
        for code in codes:
            for gz in (True, False):
                service.lists.build_once(
                    (run.run_id, code, None, True, gz),
                    lambda c=code, g=gz: _prepared(service, run, c, None, True, g),
                )
    except Exception as exc:  # a cold cache is slower, not wrong: requests build what they need
        log.warning("preparing the lists of run %s stopped (%s)", run.run_id, type(exc).__name__)
