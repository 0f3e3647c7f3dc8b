"""What caseworkers record: visit outcomes and data corrections.

Both are stored with who (token id) and when (UTC) and outlive runs and tokens; each commits
in one transaction with its audit row (no write without its row, no row without its write).
A correction never alters an agency's record: the next scoring run reads the open corrections
and applies them (then marks them ``applied``). Free text refuses anything shaped like an ID
number.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import ValidationError

from features.eligibility.engine import default_programs
from serving.api.common import API, ERRORS, audit_now, event, household_in_area, require
from serving.api.deps import ConnDep, PrincipalDep, RequestIdDep, ServiceDep
from serving.api.households import HouseholdRef
from serving.api.problems import ApiError
from serving.api.responses import visit
from serving.api.schemas import (
    HOUSEHOLD_REF,
    VISIT_DAYS,
    Correction,
    CorrectionCreate,
    CorrectionList,
    OutcomeCreate,
    Visit,
)
from serving.runtime.auth import Principal
from serving.runtime.service import Service
from serving.store import chain
from serving.store.queries import correction_rows
from serving.store.tables import corrections, visit_outcomes

router = APIRouter(prefix=API, tags=["records"], responses=ERRORS)


def _correction(row: dict) -> Correction:
    return Correction(household_ref=row["household_id"], **{
        k: row[k] for k in ("id", "item", "reference", "correction", "reason", "recorded_by",
                            "recorded_at", "status", "applied_run_id")
    })  # fmt: skip


def check_visit_date(visit_date: dt.date, today: dt.date) -> None:
    """The visit-date rule: within the last :data:`VISIT_DAYS` days of ``today`` (the service's
    local date), never after it; else a 422 naming the field."""
    if visit_date > today:
        raise ApiError(422, "visit_date: a visit cannot be in the future")
    if (today - visit_date).days > VISIT_DAYS:
        raise ApiError(422, f"visit_date: a visit is recorded within {VISIT_DAYS} days")


def write_outcome(
    service: Service, principal: Principal, household_ref: str, body: OutcomeCreate, rid: str
) -> dict[str, Any]:
    """The one write path of a visit outcome (the API route, the page form and
    :func:`record_outcomes`): the checks, then the row and its audit row in one transaction.

    Returns:
        The stored row (with its ``id``).

    Raises:
        ApiError: 403 (the role may not record), 422 (bad programs or visit date), 404 (the
            household is unknown or outside the caller's area).
    """
    require(principal, "record")
    known = {p.code for p in default_programs()}
    unknown = sorted(set(body.programs_started) - known)
    if unknown:
        raise ApiError(422, f"programs_started: unknown program {unknown[0]!r}")
    if body.programs_started and body.outcome != "in_need":
        raise ApiError(422, "programs_started: only an 'in_need' outcome starts programs")
    check_visit_date(body.visit_date, service.today())
    with service.engine.begin() as conn:  # the outcome and its audit row: one transaction
        head = chain.lock(conn)
        row = household_in_area(conn, principal, household_ref)
        values = {
            "household_id": household_ref,
            "visit_date": body.visit_date,
            "outcome": body.outcome,
            "programs_started": list(dict.fromkeys(body.programs_started)),
            "note": body.note,
            "recorded_by": principal.token_id,
            "recorded_at": service.now(),
            "run_id": row["run_id"],
            "model_version": row["model_version"],
        }
        new_id = conn.execute(visit_outcomes.insert().values(**values)).inserted_primary_key[0]
        chain.append(conn, [
            event(principal, rid, "write", "visit_outcome", household_id=household_ref,
                  detail={"outcome": body.outcome, "id": int(new_id)}),
        ], head)  # fmt: skip
    return {"id": int(new_id), **values}


@router.post("/households/{household_ref}/outcomes", response_model=Visit, status_code=201)
def record_outcome(
    household_ref: HouseholdRef,
    body: OutcomeCreate,
    principal: PrincipalDep,
    service: ServiceDep,
    rid: RequestIdDep,
) -> Visit:
    """Record a visit outcome (visited, not found, in need with programs started, not in need)."""
    return visit(write_outcome(service, principal, household_ref, body, rid), with_note=True)


def record_outcomes(
    service: Service, token: str, outcomes: Iterable[Mapping[str, Any]]
) -> list[Visit]:
    """Record visit outcomes in process, through the API's write path (for a county twin).

    Each outcome is validated like the API's body (:class:`OutcomeCreate`, plus
    ``household_ref``) and written by :func:`write_outcome`: the same checks, the same row and
    the same audit row in its transaction, attributed to the token's id. Every outcome is
    validated before any is written; the writes are one transaction per outcome, as over HTTP.
    The request id of the audit rows is one ``inproc-`` id per call.

    Args:
        service: a started :class:`Service` (``create_app(...).state.service.start()``).
        token: a token from ``outreach token create`` (or ``serving.runtime.auth``).
        outcomes: ``{"household_ref", "visit_date", "outcome", "programs_started"?, "note"?}``.

    Returns:
        The recorded visits, in order.

    Raises:
        ApiError: 401 (the token is not valid), 422 (an outcome breaks the body's schema, the
            first bad one named by its position), or the route's 403/404/422 for an outcome.
    """
    principal = service.verify(token)
    if principal is None:
        raise ApiError(401, "a valid bearer token is required")
    checked: list[tuple[str, OutcomeCreate]] = []
    for i, item in enumerate(outcomes):
        fields = dict(item)
        ref = fields.pop("household_ref", None)
        if not isinstance(ref, str) or not re.match(HOUSEHOLD_REF, ref):
            raise ApiError(422, f"outcomes[{i}].household_ref: not a household reference")
        try:
            checked.append((ref, OutcomeCreate.model_validate(fields)))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "body"
            raise ApiError(422, f"outcomes[{i}].{where}: {first.get('msg', 'invalid')}") from None
    rid = f"inproc-{secrets.token_urlsafe(9)}"
    return [
        visit(write_outcome(service, principal, ref, body, rid), with_note=True)
        for ref, body in checked
    ]


@router.post("/households/{household_ref}/corrections", response_model=Correction, status_code=201)
def record_correction(
    household_ref: HouseholdRef,
    body: CorrectionCreate,
    principal: PrincipalDep,
    service: ServiceDep,
    rid: RequestIdDep,
) -> Correction:
    """Flag a data item as wrong, with what is right and why (applied by the next run)."""
    require(principal, "record")
    with service.engine.begin() as conn:  # the correction and its audit row: one transaction
        head = chain.lock(conn)
        household_in_area(conn, principal, household_ref)
        values = {
            "household_id": household_ref,
            "item": body.item,
            "reference": body.reference,
            "correction": body.correction,
            "reason": body.reason,
            "recorded_by": principal.token_id,
            "recorded_at": service.now(),
            "status": "open",
            "applied_run_id": None,
        }
        new_id = conn.execute(corrections.insert().values(**values)).inserted_primary_key[0]
        chain.append(conn, [
            event(principal, rid, "write", "correction", household_id=household_ref,
                  detail={"item_length": len(body.item), "id": int(new_id)}),
        ], head)  # fmt: skip
    return _correction({"id": int(new_id), **values})


@router.get("/households/{household_ref}/corrections", response_model=CorrectionList)
def household_corrections(
    household_ref: HouseholdRef,
    principal: PrincipalDep,
    service: ServiceDep,
    conn: ConnDep,
    rid: RequestIdDep,
) -> CorrectionList:
    """The corrections flagged for one household, newest first."""
    require(principal, "read_corrections")
    household_in_area(conn, principal, household_ref)
    items = [_correction(r) for r in correction_rows(conn, household_id=household_ref)]
    audit_now(service, event(principal, rid, "read", "corrections", household_id=household_ref))
    return CorrectionList(items=items)


@router.get("/corrections", response_model=CorrectionList)
def all_corrections(
    principal: PrincipalDep,
    service: ServiceDep,
    conn: ConnDep,
    rid: RequestIdDep,
    status: Annotated[str | None, Query(pattern="^(open|applied|rejected)$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> CorrectionList:
    """Corrections in the caller's area (supervisors: their county; auditors: all)."""
    require(principal, "list_corrections")
    prefix = principal.jurisdiction if principal.role == "supervisor" else None
    rows = correction_rows(conn, status=status, township_prefix=prefix, limit=limit)
    audit_now(
        service,
        event(principal, rid, "read", "corrections", detail={"status": status, "n": len(rows)}),
    )
    return CorrectionList(items=[_correction(r) for r in rows])
