"""Households: detail, on-demand score and explanation, score history.

A household outside the caller's area answers exactly as one that does not exist (404, same
body but the request id). Explanations and eligibility traces stored at scoring time are served
as stored; for a household the run did not explain they are computed on demand from the run's
snapshot with the same code (:mod:`serving.runtime.ondemand`). One model reference is taken per
request.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Path
from fastapi.responses import Response

from serving.api.common import (
    API,
    CONFLICT,
    ERRORS,
    audit_async,
    audit_now,
    event,
    household_in_area,
    require,
)
from serving.api.deps import ConnDep, PrincipalDep, RequestIdDep, ServiceDep
from serving.api.problems import NOT_FOUND_HOUSEHOLD, ApiError
from serving.api.responses import (
    explanation_of,
    history_item,
    program_statuses,
    statuses_from_rows,
    trace_of,
    verify_items,
    visit,
)
from serving.api.schemas import (
    HOUSEHOLD_REF,
    Eligibility,
    Explanation,
    HouseholdDetail,
    OnDemandScore,
    ScoreHistory,
    ScoreView,
)
from serving.batch.priority import PURPOSE
from serving.runtime.auth import Principal
from serving.runtime.modelswap import ModelRef
from serving.runtime.ondemand import SnapshotUnavailable, eligibility_of
from serving.runtime.service import Service
from serving.store.queries import eligibility_rows, score_history, visit_rows

router = APIRouter(prefix=API, tags=["households"], responses=ERRORS)
HouseholdRef = Annotated[
    str, Path(pattern=HOUSEHOLD_REF, description="pseudonymous household reference")
]


def _on_demand(
    service: Service, ref: ModelRef | None, row: dict[str, Any]
) -> dict[str, Any] | None:
    if ref is None:
        return None
    try:
        snap = service.snapshots.snapshot(row["as_of"])
        return service.snapshots.explain(ref, snap, row["household_id"])
    except SnapshotUnavailable:
        return None


def _current(service: Service, ref: ModelRef | None, row: dict[str, Any]) -> ScoreView:
    if row["reasons"]:
        return ScoreView(
            source="stored", model_version=row["model_version"], score=row["score"],
            raw_score=row["raw_score"], band=row["band"],
            explanation=explanation_of(row["reasons"], row["base_value"]),
        )  # fmt: skip
    live = _on_demand(service, ref, row)
    if live is None:
        return ScoreView(
            source="stored", model_version=row["model_version"], score=row["score"],
            raw_score=row["raw_score"], band=row["band"], explanation=None,
        )  # fmt: skip
    return ScoreView(
        source="on_demand", model_version=live["model_version"], score=live["score"],
        raw_score=live["raw_score"], band=live["band"], explanation=_explanation(live),
    )  # fmt: skip


def _explanation(live: dict[str, Any]) -> Explanation:
    return Explanation(
        units=live["units"], base_value=live["base_value"],
        zh=live["reasons"]["zh"], en=live["reasons"]["en"],
    )  # fmt: skip


def _eligibility(service: Service, row: dict[str, Any], stored: list[dict]) -> Eligibility:
    if any(r.get("trace") for r in stored):
        programs = program_statuses(row["programs"]) if row["programs"] else None
        return Eligibility(
            source="stored", programs=programs or statuses_from_rows(stored),
            trace=trace_of(stored),
        )  # fmt: skip
    try:
        found = eligibility_of(
            service.snapshots.snapshot(row["as_of"]), row["household_id"], service.params()
        )
    except SnapshotUnavailable:
        found = None
    if found is None:
        return Eligibility(source="unavailable", programs=statuses_from_rows(stored), trace=[])
    summary, lines = found
    return Eligibility(source="on_demand", programs=program_statuses(summary), trace=lines)


@router.get("/households/{household_ref}", response_model=HouseholdDetail)
def household_detail(
    household_ref: HouseholdRef,
    principal: PrincipalDep,
    service: ServiceDep,
    conn: ConnDep,
    rid: RequestIdDep,
) -> HouseholdDetail:
    """A household: current score and explanation, eligibility, what to verify, history."""
    require(principal, "read")
    row = household_in_area(conn, principal, household_ref)
    ref = service.watcher.current()  # one model reference for the whole response
    current = _current(service, ref, row)
    stored = eligibility_rows(conn, row["run_id"], [household_ref]).get(household_ref, [])
    elig = _eligibility(service, row, stored)
    name = None
    if principal.identified:
        name = service.names.masked_names([household_ref], row["as_of"]).get(household_ref)
    body = HouseholdDetail(
        purpose=PURPOSE,
        household_ref=household_ref,
        masked_name=name,
        masked_id=None,
        township_code=row["township_code"],
        village_code=row["village_code"],
        run_id=row["run_id"],
        as_of=row["as_of"],
        model_version=current.model_version,
        low_confidence_link=row["low_confidence_link"],
        current=current,
        eligibility=elig,
        verify=verify_items(elig.trace, row["low_confidence_link"]),
        score_history=[history_item(r) for r in score_history(conn, household_ref)],
        visits=[visit(v, principal.identified) for v in visit_rows(conn, household_ref)],
    )
    audit_now(
        service, read_event(principal, rid, "household", household_ref, current.model_version)
    )
    return body


@router.get(
    "/households/{household_ref}/score",
    response_model=OnDemandScore,
    responses=CONFLICT,
)
async def household_score(
    household_ref: HouseholdRef,
    principal: PrincipalDep,
    service: ServiceDep,
    rid: RequestIdDep,
) -> Response:
    """Score and explain one household now, with the current champion model."""
    require(principal, "read")
    quick = quick_score(service, principal, household_ref)
    if quick is not None:
        version, body = quick
    else:
        row = service.locate(household_ref) or service.cached_household_row(household_ref)
        if row is None:
            row = await anyio.to_thread.run_sync(service.household_row, household_ref)
        if row is None or not principal.sees_household(row["township_code"], row["village_code"]):
            raise ApiError(404, NOT_FOUND_HOUSEHOLD, reason="not_found")
        ref = service.watcher.current()  # one model reference for the whole response
        if ref is None:
            raise ApiError(409, "no champion model is loaded")
        snap, live = await anyio.to_thread.run_sync(_score_now, service, ref, row)
        version, body = ref.version, _score_json(household_ref, snap, live)
    await audit_async(
        service, read_event(principal, rid, "household_score", household_ref, version)
    )
    return Response(body, media_type="application/json")


def quick_score(
    service: Service, principal: Principal, household_ref: str
) -> tuple[str, bytes] | None:
    """``(model version, JSON bytes)`` of an on-demand score answerable from memory now (the
    household located in memory and inside the caller's area, the champion's matrix of the
    loaded snapshot built: well under a millisecond, on the event loop, no thread hop), or None
    for anything else: the route then takes the full path and gives its answers (403, 404,
    409, a snapshot read) (:mod:`serving.api.prepared` uses it too)."""
    if not principal.may("read"):
        return None
    row = service.locate(household_ref) or service.cached_household_row(household_ref)
    if row is None or not principal.sees_household(row["township_code"], row["village_code"]):
        return None
    ref = service.watcher.current()  # one model reference for the whole response
    snap = service.snapshots.loaded(row["as_of"])
    if ref is None or snap is None:
        return None
    live = service.snapshots.cached(ref, row["as_of"], household_ref)
    if live is None and service.snapshots.ready(ref, snap):
        live = service.snapshots.explain(ref, snap, household_ref)
    return None if live is None else (ref.version, _score_json(household_ref, snap, live))


def _score_json(household_ref: str, snap: Any, live: dict[str, Any]) -> bytes:
    body = OnDemandScore(
        household_ref=household_ref, as_of=snap.as_of, snapshot_id=snap.snapshot_id,
        model_version=live["model_version"], score=live["score"], raw_score=live["raw_score"],
        band=live["band"], explanation=_explanation(live),
    )  # fmt: skip
    # built and validated here: sent as JSON without FastAPI validating it a second time
    return body.model_dump_json().encode("utf-8")


def _score_now(service: Service, ref: ModelRef, row: dict[str, Any]) -> tuple[Any, dict]:
    try:
        snap = service.snapshots.snapshot(row["as_of"])
        live = service.snapshots.explain(ref, snap, row["household_id"])
    except SnapshotUnavailable as exc:
        raise ApiError(409, str(exc)) from None
    if live is None:
        raise ApiError(409, f"the snapshot of {row['as_of']} does not hold this household")
    return snap, live


@router.get("/households/{household_ref}/history", response_model=ScoreHistory)
def household_history(
    household_ref: HouseholdRef,
    principal: PrincipalDep,
    service: ServiceDep,
    conn: ConnDep,
    rid: RequestIdDep,
) -> ScoreHistory:
    """Every complete run's score of a household, with model versions and explanations."""
    require(principal, "read")
    household_in_area(conn, principal, household_ref)
    items = [history_item(r) for r in score_history(conn, household_ref)]
    audit_now(service, read_event(principal, rid, "household_history", household_ref, None))
    return ScoreHistory(household_ref=household_ref, items=items)


def read_event(principal: Principal, rid: str, resource: str, hid: str, version: str | None):
    """The audit row of one read of a household's data."""
    detail = {"model_version": version} if version else None
    return event(principal, rid, "read", resource, household_id=hid, detail=detail)
