"""Coverage for supervisors: what was done with the latest run's lists, per township and village.

``GET /coverage`` lists the areas the viewer may open; ``GET /coverage/{code}`` shows, for a
township (and each of its villages the viewer sees) or a village: listed, visited, outcome
recorded, found in need, applications started, overdue (listed more than ``?days=`` days ago,
default 14, and not visited) and exploration entries visited; ``/coverage/{code}/export.csv``
is the same table as a file. Figures come straight from the service database on each request
(:mod:`serving.pages.coverage_data`), so they move as outcomes are recorded. They are counts
only: no household is named, and the pages are not audited (like the model page). A code
outside the viewer's area answers the same 404 page as one that does not exist.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response

from serving.pages import exports, i18n
from serving.pages.coverage_data import OVERDUE_DAYS, Coverage, coverage, listed_since
from serving.pages.lists import CODE, area_index, visible_areas
from serving.pages.web import (
    PageServiceDep,
    Viewer,
    ViewerDep,
    lang_of,
    not_found,
    pages_of,
    render,
)
from serving.runtime.service import Service

router = APIRouter(include_in_schema=False)
MAX_DAYS = 365


def _days(request: Request) -> int:
    raw = request.query_params.get("days", "")
    return min(int(raw), MAX_DAYS) if raw.isdigit() else OVERDUE_DAYS


def _figures(request: Request, viewer: Viewer, service: Service, code: str, days: int):
    p = viewer.principal
    run = service.run()
    if not CODE.match(code) or not p.sees_jurisdiction(code) or run is None:
        raise not_found()
    index = area_index(service, run, pages_of(request).caches)
    villages = index.get(code[:9], {})
    if not villages or (len(code) == 12 and code not in villages):
        raise not_found()
    visible = [code] if len(code) == 12 else [v for v in villages if p.sees_jurisdiction(v)]
    now = dt.datetime.now(dt.UTC)
    with service.engine.connect() as conn:
        total, rows = coverage(conn, run, code, visible, now, days)
    return run, total, rows


@router.get("/coverage")
async def coverage_index(request: Request, viewer: ViewerDep, service: PageServiceDep) -> Response:
    """The areas whose coverage the viewer may open."""
    run = service.run()
    areas = []
    if run is not None:
        index = await anyio.to_thread.run_sync(area_index, service, run, pages_of(request).caches)
        areas = visible_areas(index, viewer)
    return render(request, "coverage_index.html", {"run": run, "areas": areas})


@router.get("/coverage/{code}")
async def coverage_page(
    code: str, request: Request, viewer: ViewerDep, service: PageServiceDep
) -> Response:
    """Listed, visited, found, started and overdue, for the area and each of its villages."""
    days = _days(request)
    run, total, rows = await anyio.to_thread.run_sync(
        _figures, request, viewer, service, code, days
    )
    context = {
        "code": code, "run": run, "total": total, "rows": rows, "days": days,
        "fields": Coverage.FIELDS, "listed_at": listed_since(run).strftime("%Y-%m-%d %H:%M"),
        "csv": f"/coverage/{code}/export.csv?days={days}",
    }  # fmt: skip
    return render(request, "coverage.html", context)


def coverage_csv(lang: str, total: Coverage, rows: list[Coverage]) -> bytes:
    """The figures as CSV (UTF-8 with BOM, CRLF): the area's line first, then its villages."""
    t = i18n.translator(lang)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([t("coverage.area"), *(t(f"coverage.{f}") for f in Coverage.FIELDS)])
    for r in (total, *rows):
        writer.writerow([r.code, *r.values()])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


@router.get("/coverage/{code}/export.csv")
async def coverage_export(
    code: str, request: Request, viewer: ViewerDep, service: PageServiceDep
) -> Response:
    """The coverage table as CSV."""
    days = _days(request)
    run, total, rows = await anyio.to_thread.run_sync(
        _figures, request, viewer, service, code, days
    )
    body = coverage_csv(lang_of(request), total, rows)
    name = f"coverage-{code}-{run.as_of.isoformat()}.csv"
    headers = {"Content-Disposition": exports.content_disposition(name)}
    return Response(body, media_type=exports.CONTENT_TYPES["csv"], headers=headers)
