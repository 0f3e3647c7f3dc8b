"""The household page and its two forms: the visit outcome and the data correction.

The page is the API's household detail (:func:`serving.api.households.household_detail`: the
same area check, on-demand explanation and audit row) plus, for roles that may read them, the
household's corrections (:func:`serving.api.records.household_corrections`, audited). The
forms post the API's bodies (:class:`~serving.api.schemas.OutcomeCreate`,
:class:`~serving.api.schemas.CorrectionCreate`) to the API's record functions; after a
success the browser is sent back (303) with a flash, an invalid form answers 422 with the form
refilled and one line naming the field and the rule.
"""

from __future__ import annotations

import re
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from serving.api import households as households_api
from serving.api import records as records_api
from serving.api.problems import ApiError, request_id
from serving.api.schemas import HOUSEHOLD_REF, CorrectionCreate, OutcomeCreate
from serving.batch.corrections import APPLICABLE
from serving.pages import i18n, present
from serving.pages.session import FLASH_COOKIE
from serving.pages.web import (
    PageError,
    PageServiceDep,
    Viewer,
    ViewerDep,
    check_csrf,
    forbidden,
    from_api,
    is_https,
    lang_of,
    not_found,
    read_form,
    render,
)
from serving.runtime.audit import AuditWriteError
from serving.runtime.service import Service

router = APIRouter(include_in_schema=False)
REF = re.compile(HOUSEHOLD_REF)
OUTCOMES = ("visited", "not_found", "in_need", "not_in_need")
FLASHES = ("outcome", "correction")


def _read(service: Service, viewer: Viewer, ref: str, rid: str) -> dict[str, Any]:
    """The household detail and corrections, audited (from a worker thread)."""
    p = viewer.principal
    try:
        with service.engine.begin() as conn:
            detail = households_api.household_detail(ref, p, service, conn, rid)
            corrections = None
            if p.may("read_corrections"):
                found = records_api.household_corrections(ref, p, service, conn, rid)
                corrections = found.items
    except ApiError as exc:
        raise from_api(exc) from None
    except AuditWriteError:
        raise PageError(503, "unavailable") from None
    return {"detail": detail, "corrections": corrections}


async def household_response(
    request: Request,
    viewer: Viewer,
    service: Service,
    ref: str,
    status: int = 200,
    form: dict[str, Any] | None = None,
    flash: str | None = None,
) -> Response:
    """The household page (``form``: a submitted form to show again with its error)."""
    if not REF.match(ref):
        raise not_found()
    data = await anyio.to_thread.run_sync(_read, service, viewer, ref, request_id(request))
    lang = lang_of(request)
    detail = data["detail"]
    current = detail.current
    explanation = current.explanation
    context = {
        **data,
        "reasons": present.reasons_of(explanation, lang),
        "waterfall": present.waterfall_svg(
            explanation, current.raw_score, current.score, lang, "shap-waterfall"
        ),
        "waterfall_rows": present.waterfall_rows(explanation, current.raw_score, lang),
        "trace": present.trace_by_program(detail.eligibility.trace),
        "probability": present.probability,
        "band_label": lambda b: present.band_label(lang, b),
        "loc": lambda obj: present.in_language(obj, lang),
        "can_record": viewer.principal.may("record"),
        "outcomes": OUTCOMES,
        "program_codes": i18n.program_codes(),
        "correction_items": list(APPLICABLE),
        "today": service.today().isoformat(),
        "form": form or {},
        "flash": flash,
    }
    return render(request, "household.html", context, status)


@router.get("/households/{ref}")
async def household_page(
    ref: str, request: Request, viewer: ViewerDep, service: PageServiceDep
) -> Response:
    """A household: score and its waterfall, eligibility, history, visits and the forms."""
    flash = request.cookies.get(FLASH_COOKIE)
    response = await household_response(
        request, viewer, service, ref, flash=flash if flash in FLASHES else None
    )
    if flash is not None:
        response.delete_cookie(FLASH_COOKIE, path=f"/households/{ref}", httponly=True,
                               samesite="strict", secure=is_https(request))  # fmt: skip
    return response


async def _checked_form(request: Request, viewer: Viewer, ref: str) -> FormData:
    """The posted form after the CSRF and role checks (in that order)."""
    form = await read_form(request)
    if form is None:
        raise PageError(422, "invalid")
    check_csrf(viewer.csrf, form)
    if not viewer.principal.may("record"):
        raise forbidden()
    if not REF.match(ref):
        raise not_found()
    return form


def _fields(form: FormData, names: tuple[str, ...], lists: tuple[str, ...] = ()) -> dict:
    """The form's fields for a body: blanks left out (so a required one reads as missing)."""
    out: dict[str, Any] = {}
    for name in names:
        value = str(form.get(name) or "").strip()
        if value:
            out[name] = value
    for name in lists:
        out[name] = [str(v) for v in form.getlist(name) if str(v)]
    return out


async def _record(
    request: Request,
    viewer: Viewer,
    service: Service,
    ref: str,
    which: str,
    model: type[BaseModel],
    values: dict[str, Any],
) -> Response:
    lang = lang_of(request)
    error = None
    try:
        body = model.model_validate(values)
    except ValidationError as exc:
        error = present.validation_error(lang, exc)
    if error is None:
        write = records_api.record_outcome if which == "outcome" else records_api.record_correction
        rid = request_id(request)
        try:
            await anyio.to_thread.run_sync(write, ref, body, viewer.principal, service, rid)
        except ApiError as exc:
            if exc.status != 422:
                raise from_api(exc) from None
            error = present.api_error(lang, exc.detail)
        except AuditWriteError:
            raise PageError(503, "unavailable") from None
    if error is not None:
        form = {"which": which, "values": values, "error": error}
        return await household_response(request, viewer, service, ref, 422, form=form)
    response = RedirectResponse(f"/households/{ref}", status_code=303)
    response.set_cookie(FLASH_COOKIE, which, max_age=60, path=f"/households/{ref}",
                        httponly=True, samesite="strict", secure=is_https(request))  # fmt: skip
    return response


@router.post("/households/{ref}/outcome")
async def post_outcome(
    ref: str, request: Request, viewer: ViewerDep, service: PageServiceDep
) -> Response:
    """Record a visit outcome (the API's outcome body, from a form)."""
    form = await _checked_form(request, viewer, ref)
    values = _fields(form, ("visit_date", "outcome", "note"), lists=("programs_started",))
    return await _record(request, viewer, service, ref, "outcome", OutcomeCreate, values)


@router.post("/households/{ref}/corrections")
async def post_correction(
    ref: str, request: Request, viewer: ViewerDep, service: PageServiceDep
) -> Response:
    """Flag a data correction (the API's correction body, from a form)."""
    form = await _checked_form(request, viewer, ref)
    values = _fields(form, ("item", "reference", "correction", "reason"))
    return await _record(request, viewer, service, ref, "correction", CorrectionCreate, values)
