"""What caseworkers record: visit outcomes and data corrections.

Both are stored with who (token id) and when (UTC) and outlive runs and tokens; each commits
in one transaction with its audit row (no write without its row, no row without its write).
A correction never alters an agency's record: the next scoring run reads the open corrections
and applies them (then marks them ``applied``). Free text refuses anything shaped like an ID
number.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from features.eligibility.engine import default_programs
from serving.api.common import API, ERRORS, audit_now, event, household_in_area, require
from serving.api.deps import ConnDep, PrincipalDep, RequestIdDep, ServiceDep
from serving.api.households import HouseholdRef
from serving.api.problems import ApiError
from serving.api.responses import visit
from serving.api.schemas import Correction, CorrectionCreate, CorrectionList, OutcomeCreate, Visit
from serving.store import chain
from serving.store.queries import correction_rows
from serving.store.tables import corrections, visit_outcomes

router = APIRouter(prefix=API, tags=["records"], responses=ERRORS)


def _correction(row: dict) -> Correction:
    return Correction(household_ref=row["household_id"], **{
        k: row[k] for k in ("id", "item", "reference", "correction", "reason", "recorded_by",
                            "recorded_at", "status", "applied_run_id")
    })  # fmt: skip


@router.post("/households/{household_ref}/outcomes", response_model=Visit, status_code=201)
def record_outcome(
    household_ref: HouseholdRef,
    body: OutcomeCreate,
    principal: PrincipalDep,
    service: ServiceDep,
    rid: RequestIdDep,
) -> Visit:
    """Record a visit outcome (visited, not found, in need with programs started, not in need)."""
    require(principal, "record")
    known = {p.code for p in default_programs()}
    unknown = sorted(set(body.programs_started) - known)
    if unknown:
        raise ApiError(422, f"programs_started: unknown program {unknown[0]!r}")
    if body.programs_started and body.outcome != "in_need":
        raise ApiError(422, "programs_started: only an 'in_need' outcome starts programs")
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
            "recorded_at": dt.datetime.now(dt.UTC),
            "run_id": row["run_id"],
            "model_version": row["model_version"],
        }
        new_id = conn.execute(visit_outcomes.insert().values(**values)).inserted_primary_key[0]
        chain.append(conn, [
            event(principal, rid, "write", "visit_outcome", household_id=household_ref,
                  detail={"outcome": body.outcome, "id": int(new_id)}),
        ], head)  # fmt: skip
    return visit({"id": int(new_id), **values}, with_note=True)


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
            "recorded_at": dt.datetime.now(dt.UTC),
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
