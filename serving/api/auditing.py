"""The audit log, for auditors: ``GET /api/v1/audit`` with filters, newest first, paged by id.
Each entry names the actor's token and, when it has one, the token's holder.

Reading the audit log is itself audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Query

from serving.api.common import API, ERRORS, audit_now, event, require
from serving.api.deps import ConnDep, PrincipalDep, RequestIdDep, ServiceDep
from serving.api.schemas import HOUSEHOLD_REF, MAX_ID, AuditEntry, AuditPage, UtcTime
from serving.runtime import auth
from serving.store.tables import audit_log

router = APIRouter(prefix=API, tags=["audit"], responses=ERRORS)


def _without_hashes(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in ("prev_hash", "row_hash")}


@router.get("/audit", response_model=AuditPage)
def audit_entries(
    principal: PrincipalDep,
    service: ServiceDep,
    conn: ConnDep,
    rid: RequestIdDep,
    actor: Annotated[str | None, Query(max_length=64, description="token id")] = None,
    role: Annotated[
        str | None, Query(pattern="^(caseworker|supervisor|auditor|data_scientist)$")
    ] = None,
    action: Annotated[str | None, Query(max_length=32)] = None,
    resource: Annotated[str | None, Query(max_length=64)] = None,
    household_ref: Annotated[str | None, Query(pattern=HOUSEHOLD_REF)] = None,
    jurisdiction_code: Annotated[str | None, Query(pattern="^[0-9]{6,12}$")] = None,
    since: Annotated[UtcTime | None, Query(description="UTC, inclusive")] = None,
    until: Annotated[UtcTime | None, Query(description="UTC, exclusive")] = None,
    before_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="page: entries older than")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditPage:
    """Audit log entries (who read or recorded what, when, for what purpose)."""
    require(principal, "read_audit_log")
    a = audit_log.c
    q = sa.select(audit_log).order_by(a.id.desc()).limit(limit + 1)
    for col, value in (
        (a.actor, actor), (a.role, role), (a.action, action), (a.resource, resource),
        (a.household_id, household_ref), (a.jurisdiction_code, jurisdiction_code),
    ):  # fmt: skip
        if value is not None:
            q = q.where(col == value)
    if since is not None:
        q = q.where(a.at >= _utc(since))
    if until is not None:
        q = q.where(a.at < _utc(until))
    if before_id is not None:
        q = q.where(a.id < before_id)
    rows = [dict(r) for r in conn.execute(q).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    # the chain's hashes stay in the database: `outreach audit verify` checks them (hex digests
    # would also be mistaken for ID numbers by every scan of what the service answers)
    named = auth.holders(conn, {r["actor"] for r in rows})
    items = [
        AuditEntry(household_ref=r.pop("household_id"), holder=named.get(r["actor"]),
                   **_without_hashes(r))  # type: ignore[arg-type]
        for r in rows
    ]  # fmt: skip
    audit_now(service, event(principal, rid, "read", "audit_log", detail={"n": len(items)}))
    return AuditPage(items=items, next_before_id=items[-1].id if more and items else None)


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value
