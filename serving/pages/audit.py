"""Auditor pages: the index, any household's score history with its explanations, the audit log.

Only auditors open them (others get the 403 page, decided before any lookup). The history is
the API's (:func:`serving.api.households.household_history`) and the log the API's
(:func:`serving.api.auditing.audit_entries`), audited the same way; the log's filters are
checked here as the API's query parameters are (a bad one answers 422 with the form).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlencode

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from serving.api import auditing as auditing_api
from serving.api import households as households_api
from serving.api.problems import ApiError, request_id
from serving.api.schemas import HOUSEHOLD_REF, Explanation
from serving.pages import present
from serving.pages.i18n import message
from serving.pages.web import (
    PageError,
    PageServiceDep,
    Viewer,
    ViewerDep,
    forbidden,
    from_api,
    lang_of,
    not_found,
    render,
)
from serving.runtime.audit import AuditWriteError
from serving.runtime.service import Service
from serving.store.tables import ROLES

router = APIRouter(include_in_schema=False)
REF = re.compile(HOUSEHOLD_REF)
ACTIONS = ("read", "write")
LOG_PAGE = 100
_TEXT = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _auditor(viewer: Viewer) -> None:
    if viewer.role != "auditor":
        raise forbidden()


@router.get("/audit")
async def audit_index(request: Request, viewer: ViewerDep) -> Response:
    """Links to the model page, the audit log and a household's history."""
    _auditor(viewer)
    return render(request, "audit.html")


@router.get("/audit/households")
async def household_lookup(request: Request, viewer: ViewerDep) -> Response:
    """Open the history of the household named by ``?ref=`` (the 404 page when malformed)."""
    _auditor(viewer)
    ref = (request.query_params.get("ref") or "").strip()
    if not REF.match(ref):
        raise not_found()
    return RedirectResponse(f"/audit/households/{ref}", status_code=303)


def _history(service: Service, viewer: Viewer, ref: str, rid: str) -> list[dict[str, Any]]:
    """The history's items, each with the explanation to draw: the stored one, or for the
    newest run of a household it did not explain, one computed now with the current champion
    (``live``: its model version), as the household page does."""
    try:
        with service.engine.begin() as conn:
            history = households_api.household_history(ref, viewer.principal, service, conn, rid)
    except ApiError as exc:
        raise from_api(exc) from None
    except AuditWriteError:
        raise PageError(503, "unavailable") from None
    out = [{"item": h, "explanation": h.explanation, "raw": h.raw_score, "p": h.score,
            "live": None} for h in history.items]  # fmt: skip
    if out and out[0]["explanation"] is None:
        live = _explain_now(service, ref, out[0]["item"].as_of)
        if live is not None:
            explanation = Explanation(
                units=live["units"], base_value=live["base_value"], zh=live["reasons"]["zh"],
                en=live["reasons"]["en"],
            )  # fmt: skip
            out[0].update(explanation=explanation, raw=live["raw_score"], p=live["score"],
                          live=live["model_version"])  # fmt: skip
    return out


def _explain_now(service: Service, ref: str, as_of: dt.date) -> dict[str, Any] | None:
    from serving.runtime.ondemand import SnapshotUnavailable

    model = service.watcher.current()
    if model is None:
        return None
    try:
        return service.snapshots.explain(model, service.snapshots.snapshot(as_of), ref)
    except SnapshotUnavailable:
        return None


@router.get("/audit/households/{ref}")
async def audit_household(
    ref: str, request: Request, viewer: ViewerDep, service: PageServiceDep
) -> Response:
    """Every complete run's score of a household, with its model version and explanation."""
    _auditor(viewer)
    if not REF.match(ref):
        raise not_found()
    history = await anyio.to_thread.run_sync(_history, service, viewer, ref, request_id(request))
    lang = lang_of(request)
    items = []
    for i, h in enumerate(history, start=1):
        e, item = h["explanation"], h["item"]
        items.append({
            "item": item,
            "live": h["live"],
            "score_line": present.score_line(lang, item.band, item.score),
            "chart": present.waterfall_svg(e, h["raw"], h["p"], lang, f"shap-waterfall-{i}"),
            "rows": present.waterfall_rows(e, h["raw"], lang),
            "n": i,
        })  # fmt: skip
    return render(request, "audit_household.html", {"ref": ref, "items": items})


def _filters(request: Request) -> tuple[dict[str, Any], dict[str, str], str | None]:
    """The log's filters from the query: (API arguments, form values, error field)."""
    q = request.query_params
    values = {
        k: (q.get(k) or "").strip()
        for k in ("actor", "role", "action", "resource", "household_ref", "from", "to", "before_id")
    }
    args: dict[str, Any] = {}
    checks = {
        "actor": lambda v: _TEXT.match(v) is not None,
        "role": lambda v: v in ROLES,
        "action": lambda v: v in ACTIONS,
        "resource": lambda v: _TEXT.match(v) is not None,
        "household_ref": lambda v: REF.match(v) is not None,
    }  # fmt: skip
    for name, ok in checks.items():
        if values[name]:
            if not ok(values[name]):
                return {}, values, name
            args[name] = values[name]
    for name, arg, shift in (("from", "since", 0), ("to", "until", 1)):
        if values[name]:
            day = _date(values[name])
            if day is None or day == dt.date.max:  # the day after must exist
                return {}, values, name
            args[arg] = dt.datetime.combine(day + dt.timedelta(days=shift), dt.time(), dt.UTC)
    if values["before_id"]:
        if not values["before_id"].isdigit() or not 0 < int(values["before_id"]) < 2**62:
            return {}, values, "before_id"
        args["before_id"] = int(values["before_id"])
    return args, values, None


def _date(text: str) -> dt.date | None:
    if not _DATE.match(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _entries(service: Service, viewer: Viewer, rid: str, args: dict[str, Any]):
    try:
        with service.engine.begin() as conn:
            return auditing_api.audit_entries(
                viewer.principal, service, conn, rid, actor=args.get("actor"),
                role=args.get("role"), action=args.get("action"),
                resource=args.get("resource"), household_ref=args.get("household_ref"),
                jurisdiction_code=None, since=args.get("since"), until=args.get("until"),
                before_id=args.get("before_id"), limit=LOG_PAGE,
            )  # fmt: skip
    except ApiError as exc:
        raise from_api(exc) from None
    except AuditWriteError:
        raise PageError(503, "unavailable") from None


@router.get("/audit/log")
async def audit_log(request: Request, viewer: ViewerDep, service: PageServiceDep) -> Response:
    """The audit log, newest first, with filters (reading it is audited)."""
    _auditor(viewer)
    args, values, bad = _filters(request)
    lang = lang_of(request)
    context: dict[str, Any] = {
        "values": values, "roles": ROLES, "actions": ACTIONS,
        "purpose_text": lambda purpose: present.purpose_text(lang, purpose),
    }  # fmt: skip
    if bad is not None:
        error = message(lang, "form.error.invalid", field=present.field_label(lang, bad))
        return render(request, "audit_log.html", {**context, "page": None, "error": error}, 422)
    page = await anyio.to_thread.run_sync(_entries, service, viewer, request_id(request), args)
    older = None
    if page.next_before_id is not None:
        keep = [(k, v) for k, v in values.items() if v and k != "before_id"]
        keep.append(("before_id", str(page.next_before_id)))
        older = "/audit/log?" + urlencode(keep)
    return render(
        request, "audit_log.html", {**context, "page": page, "error": None, "older": older}
    )
