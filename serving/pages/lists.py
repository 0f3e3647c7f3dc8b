"""Visit-list pages: the township index, a list grouped by village, exports and print.

A list is the API's prepared list (:func:`serving.api.lists.cached_list`: the latest complete
run's list for the code, built once per run), with each household's visit state for the run,
narrowed by the filters of :mod:`serving.pages.fieldlist` (``?village=&band=&gap=&pending=1``
and the day's selection ``&ref=…``); ranks are the list's own. Every view, export and print
is audited like the API's list read (resource ``list``),
with ``detail.channel`` saying which (``page``, ``export.csv``, ``export.xlsx``, ``print``).
Exports leave health and income reasons out unless asked with ``?sensitive=1&purpose=…`` (the
purpose, 10-200 characters of free text, goes into every row and into the audit row's
``detail.export_purpose``); every file names the exporting token and the time.
A code outside the caller's area answers the same 404 page as a code that does not exist.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

import anyio.to_thread
import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel

from serving.api.common import event
from serving.api.lists import cached_list
from serving.api.problems import ApiError, request_id
from serving.api.schemas import FreeText, ListEntry, VisitList
from serving.pages import exports, fieldlist, i18n, present
from serving.pages.coverage_data import VisitState, visit_states
from serving.pages.web import (
    PageError,
    PageServiceDep,
    Viewer,
    ViewerDep,
    audited_async,
    from_api,
    lang_of,
    not_found,
    pages_of,
    render,
)
from serving.runtime.service import Service
from serving.store.db import ScoreRun
from serving.store.tables import scores


class ExportPurpose(BaseModel):
    """The free-text checks of the API (no control characters, no ID number)."""

    text: FreeText


router = APIRouter(include_in_schema=False)
CODE = re.compile(r"^[0-9]{9}([0-9]{3})?$")
TOP_REASONS = 3
TOP_VERIFY = 3


@dataclasses.dataclass(frozen=True)
class ListView:
    """A visit list as a page shows it: the entries passing the filters, with visit states."""

    visit_list: VisitList
    entries: list[ListEntry]
    villages: list[str]
    filters: fieldlist.Filters
    states: dict[str, VisitState]
    scope: list[ListEntry]

    @property
    def code(self) -> str:
        return self.visit_list.jurisdiction_code

    @property
    def village(self) -> str | None:
        return self.filters.village

    @property
    def groups(self) -> list[fieldlist.VillageGroup]:
        return fieldlist.by_village(self.entries, self.states, self.scope)

    @property
    def options(self) -> dict[str, list[str]]:
        """Filter choices: the bands and program gaps of the whole list."""
        return fieldlist.options(self.scope)

    @property
    def visited(self) -> int:
        return sum(fieldlist.visited(e, self.states) for e in self.entries)


def area_index(service: Service, run: ScoreRun, cache: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Households scored by the run per township and village (kept for the latest run only)."""
    found = cache.get("areas")
    if found is not None and found[0] == run.run_id:
        return found[1]
    q = (
        sa.select(scores.c.township_code, scores.c.village_code, sa.func.count())
        .where(scores.c.run_id == run.run_id)
        .group_by(scores.c.township_code, scores.c.village_code)
    )
    out: dict[str, dict[str, int]] = {}
    with service.engine.connect() as conn:
        for township, village, n in conn.execute(q):
            out.setdefault(township, {})[village] = int(n)
    cache["areas"] = (run.run_id, out)
    return out


def visible_areas(index: dict[str, dict[str, int]], viewer: Viewer) -> list[dict[str, Any]]:
    """The townships (or, for a village caseworker, villages) the viewer may open."""
    p = viewer.principal
    out = []
    for township in sorted(index):
        villages = index[township]
        if p.sees_jurisdiction(township):
            out.append({"code": township, "n": sum(villages.values())})
            continue
        out += [{"code": v, "n": n} for v, n in sorted(villages.items()) if p.sees_jurisdiction(v)]
    return out


async def load_list(request: Request, viewer: Viewer, service: Service, code: str) -> ListView:
    """The list of ``code`` (``?village=`` applied); the 404 page when it is unknown, outside
    the viewer's area, or the village is not one of the list's area."""
    p = viewer.principal
    if not CODE.match(code) or not p.sees_jurisdiction(code):
        raise not_found()
    run = service.run()
    if run is None:
        raise not_found()
    try:
        body = await cached_list(service, run, code, None, p, False)
    except ApiError as exc:
        raise from_api(exc) from None
    visit_list = await anyio.to_thread.run_sync(parsed, body, pages_of(request).caches)
    index = await anyio.to_thread.run_sync(area_index, service, run, pages_of(request).caches)
    if len(code) == 12:
        villages = [code]
    else:
        villages = sorted(v for v in index.get(code, {}) if p.sees_jurisdiction(v))
    params = request.query_params
    filters = fieldlist.Filters.parse(params, params.getlist("ref"))
    if filters.village is not None and filters.village not in villages:
        raise not_found()
    ids = [e.household_ref for e in visit_list.entries]
    states = await anyio.to_thread.run_sync(_states, service, visit_list.run_id, ids)
    entries = [e for e in visit_list.entries if fieldlist.keep(e, filters, states)]
    return ListView(visit_list, entries, villages, filters, states, visit_list.entries)


def parsed(body: bytes, cache: dict[str, Any]) -> VisitList:
    """The prepared list's bytes as a :class:`VisitList`, parsed once per prepared body (the
    service keeps one per run, code and kind of caller; a new run prepares new ones)."""
    lists: dict[bytes, VisitList] = cache.setdefault("parsed_lists", {})
    found = lists.get(body)
    if found is None:
        if len(lists) >= 64:
            lists.clear()
        found = lists[body] = VisitList.model_validate_json(body)
    return found


def _states(service: Service, run_id: str, ids: list[str]) -> dict[str, VisitState]:
    with service.engine.connect() as conn:
        return visit_states(conn, run_id, ids)


async def _audit(request: Request, viewer: Viewer, service: Service, view: ListView, channel: str,
                 **extra: Any):  # fmt: skip
    detail = {
        "run_id": view.visit_list.run_id, "capacity": None, "village": view.village,
        "channel": channel, **extra,
    }  # fmt: skip
    await audited_async(
        service,
        event(viewer.principal, request_id(request), "read", "list",
              jurisdiction_code=view.code, detail=detail),
    )  # fmt: skip


def _query(view: ListView) -> str:
    return view.filters.query()


def card_helpers(lang: str) -> dict[str, Any]:
    """What a card's templates call: reasons split into causes and context, folded gaps."""
    return {
        "split_reasons": lambda explanation: present.split_reasons(explanation, lang),
        "gaps_summary": lambda e: present.gaps_of(e.reasons.programs, e.reasons.gaps),
    }


@router.get("/lists")
async def area_list(request: Request, viewer: ViewerDep, service: PageServiceDep) -> Response:
    """The townships (and villages) whose lists the viewer may open."""
    run = service.run()
    areas = []
    if run is not None:
        index = await anyio.to_thread.run_sync(area_index, service, run, pages_of(request).caches)
        areas = visible_areas(index, viewer)
    return render(request, "areas.html", {"run": run, "areas": areas})


@router.get("/lists/{code}")
async def list_page(
    code: str, request: Request, viewer: ViewerDep, service: PageServiceDep
) -> Response:
    """A visit list: rank, household, risk, reasons, gaps, what to verify, exploration."""
    view = await load_list(request, viewer, service, code)
    await _audit(request, viewer, service, view, "page")
    q = _query(view)
    links = {
        "csv": f"/lists/{code}/export.csv{q}",
        "xlsx": f"/lists/{code}/export.xlsx{q}",
        "print": f"/lists/{code}/print{q}",
    }
    lang = lang_of(request)
    cards = [
        (g, [fieldlist.card(e, view.states, lang, TOP_REASONS, TOP_VERIFY) for e in g.entries])
        for g in view.groups
    ]
    context = {"view": view, "links": links, "cards": cards}
    return await anyio.to_thread.run_sync(render, request, "list.html", context)


@router.get("/lists/{code}/print")
async def list_print(
    code: str, request: Request, viewer: ViewerDep, service: PageServiceDep
) -> Response:
    """The list as printable sheets, one per household."""
    view = await load_list(request, viewer, service, code)
    await _audit(request, viewer, service, view, "print")
    context = {"view": view, "top": TOP_REASONS, **card_helpers(lang_of(request))}
    return await anyio.to_thread.run_sync(render, request, "print.html", context)


def export_table(view: ListView, lang: str, stamp: exports.Stamp) -> exports.ExportTable:
    """The list's rows and facts for a file, in the page's language."""
    t = i18n.translator(lang)
    labels = exports.Labels(
        lang=lang,
        band=lambda b: t(f"band.{b}") if f"band.{b}" in i18n.MESSAGES else b,
        program=lambda code: i18n.program_name(lang, code),
        yes=t("yes"),
        no=t("no"),
        context=t("reason.context"),
    )
    vl = view.visit_list
    purpose = t("purpose.statement")
    if stamp.sensitive_purpose is not None:
        purpose = f"{purpose} {t('export.sensitive_purpose')}{stamp.sensitive_purpose}"
    rows = [exports.entry_row(e, labels, vl.model_version, purpose, stamp) for e in view.entries]
    withheld = t("export.about.included") if stamp.sensitive_purpose else t("export.about.withheld")
    about = [
        (t("export.col.purpose"), purpose),
        (t("export.about.jurisdiction"), vl.jurisdiction_code),
        (t("export.about.village"), view.village or t("list.all_villages")),
        (t("export.about.as_of"), vl.as_of.isoformat()),
        (t("export.col.model_version"), vl.model_version),
        (t("export.about.run"), vl.run_id),
        (t("export.about.rows"), str(len(rows))),
        (t("export.about.generated"), stamp.at),
        (t("export.col.exported_by"), stamp.token_id),
        (t("export.about.sensitive"), withheld),
    ]
    return exports.ExportTable(
        headers=[t(f"export.col.{c}") for c in exports.COLUMNS],
        rows=rows,
        sheet=t("export.sheet"),
        about_sheet=t("export.about"),
        about=about,
    )


def sensitive_purpose(request: Request) -> str | None:
    """The purpose an exporter gave for health and income reasons (``?sensitive=1&purpose=``),
    None when they did not ask; the 422 page when they asked without a fitting purpose."""
    asked = request.query_params.get("sensitive")
    if asked in (None, "", "0"):
        return None
    text = " ".join((request.query_params.get("purpose") or "").split())
    if asked != "1" or not 10 <= len(text) <= 200:
        raise PageError(422, "invalid")
    try:
        ExportPurpose(text=text)
    except ValueError:
        raise PageError(422, "invalid") from None
    return text


async def _export(code: str, request: Request, viewer: Viewer, service: Service, kind: str):
    purpose = sensitive_purpose(request)
    view = await load_list(request, viewer, service, code)
    at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    stamp = exports.Stamp(viewer.principal.token_id, at, purpose)
    table = export_table(view, lang_of(request), stamp)
    build = exports.to_csv if kind == "csv" else exports.to_xlsx
    body = await anyio.to_thread.run_sync(build, table)
    extra = {"sensitive": purpose is not None, "exported_at": at}
    if purpose is not None:
        extra["export_purpose"] = purpose
    await _audit(request, viewer, service, view, f"export.{kind}", **extra)
    name = exports.filename(view.code, view.visit_list.as_of.isoformat(), kind)
    headers = {"Content-Disposition": exports.content_disposition(name)}
    return Response(body, media_type=exports.CONTENT_TYPES[kind], headers=headers)


@router.get("/lists/{code}/export.csv")
async def list_csv(
    code: str, request: Request, viewer: ViewerDep, service: PageServiceDep
) -> Response:
    """The list as CSV (UTF-8 with BOM)."""
    return await _export(code, request, viewer, service, "csv")


@router.get("/lists/{code}/export.xlsx")
async def list_xlsx(
    code: str, request: Request, viewer: ViewerDep, service: PageServiceDep
) -> Response:
    """The list as an XLSX workbook."""
    return await _export(code, request, viewer, service, "xlsx")
