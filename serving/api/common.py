"""Helpers shared by the routers: the documented error responses, area checks, auditing."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.engine import Connection

from serving.api.problems import NOT_FOUND_HOUSEHOLD, NOT_FOUND_JURISDICTION, PROBLEM, ApiError
from serving.api.schemas import Problem
from serving.batch.priority import PURPOSE
from serving.runtime.auth import Principal
from serving.runtime.service import Service
from serving.store.db import AuditEvent
from serving.store.queries import latest_household_row

API = "/api/v1"


def _problem(description: str) -> dict[str, Any]:
    """A documented problem response (``application/problem+json``)."""
    ref = {"schema": {"$ref": "#/components/schemas/Problem"}}
    return {"model": Problem, "description": description, "content": {PROBLEM: ref}}


ERRORS: dict[int | str, dict[str, Any]] = {
    401: _problem("missing, invalid, expired or revoked token"),
    403: _problem("the role may not do this"),
    404: _problem("no such resource in the caller's area"),
    422: _problem("invalid parameters or body"),
    503: _problem("the audit log cannot be written (nothing is served without its audit row)"),
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: _problem("no champion model, or no matching snapshot"),
}

READ_PURPOSE = {
    "caseworker": PURPOSE,
    "supervisor": PURPOSE,
    "auditor": "audit of scores, explanations and use of the service",
    "data_scientist": "model evaluation on pseudonymous data",
}
"""The purpose recorded with each read, by role (every read serves one declared purpose)."""


def require(principal: Principal, action: str) -> None:
    """403 unless the role may perform the action (checked before any lookup)."""
    if not principal.may(action):
        raise ApiError(403, f"the {principal.role} role may not do this", reason="role")


def household_in_area(conn: Connection, principal: Principal, ref: str) -> dict[str, Any]:
    """The household's latest score row; 404 (the same answer) when absent or outside the area."""
    row = latest_household_row(conn, ref)
    if row is None:
        raise ApiError(404, NOT_FOUND_HOUSEHOLD, reason="unknown_household")
    if not principal.sees_household(row["township_code"], row["village_code"]):
        raise ApiError(404, NOT_FOUND_HOUSEHOLD, reason="outside_area")
    return row


def jurisdiction_in_area(principal: Principal, code: str) -> None:
    """404 (as for an unknown code) when the code is outside the caller's area."""
    if not principal.sees_jurisdiction(code):
        raise ApiError(404, NOT_FOUND_JURISDICTION, reason="outside_area")


def event(
    principal: Principal,
    request_id: str,
    action: str,
    resource: str,
    household_id: str | None = None,
    jurisdiction_code: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """The audit row of one read or write by this caller."""
    purpose = (
        READ_PURPOSE[principal.role] if action == "read" else "record a visit and its findings"
    )
    return AuditEvent(
        actor=principal.token_id,
        role=principal.role,
        action=action,
        resource=resource,
        purpose=purpose,
        household_id=household_id,
        jurisdiction_code=jurisdiction_code,
        request_id=request_id,
        detail=detail,
    )


def audit_now(service: Service, audit_event: AuditEvent) -> None:
    """Append the audit row and wait for its commit (group commit; from a worker thread).

    Raises:
        TimeoutError: not committed within ``db_wait_seconds`` (answered 503).
    """
    service.audit.submit(audit_event).result(timeout=service.options.db_wait_seconds)


async def audit_async(service: Service, audit_event: AuditEvent) -> None:
    """Append the audit row and await its commit (from the event loop); a bounded wait."""
    future = asyncio.wrap_future(service.audit.submit(audit_event))
    await asyncio.wait_for(future, timeout=service.options.db_wait_seconds)
