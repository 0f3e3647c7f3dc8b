"""Auditor pages of record linkage: a household's linked records, and for any pair of records the
waterfall of their match weight (``docs/linkage.md``, "The auditor's waterfall").

- ``GET /audit/linkage``: the two forms (a household reference, or two record keys);
  ``?ref=<household>``: every record linked to the household's members, by person (record key,
  agency, masked name, birth year, sex, village, how and how surely linked), with a form to pick
  two of them;
- ``GET /audit/linkage/pair?a=<key>&b=<key>``: the two records and their waterfall: the prior
  (lambda) weight, each comparison's level with its m, u and log2 Bayes factor, the running
  total, the final match weight and probability, as an SVG chart (:func:`serving.pages.charts
  .waterfall`) and a table of the same numbers.

The data is the warehouse's (read-only, one connection per request, as the masked names are,
:mod:`serving.runtime.masking`), scored by :func:`features.linkage.pair.explain_pair` with the
model the last linkage run kept. A record is named by its key ``<agency>:<record_id>``; names
are masked (:func:`core.idnumber.mask_name`) and birth dates shown as the year only. Only
auditors open these pages (403 before any lookup). Each view of records is audited (``read``;
resource ``linked_records`` with the household, or ``link_waterfall`` with the two keys and one
row per household the records' persons belong to). A bad or unknown key, household or a
warehouse without a run's model answers a 4xx page with one sentence; a busy warehouse, 503.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterator
from typing import Any

import anyio.to_thread
import duckdb
from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from core.idnumber import mask_name
from features.linkage.model import MATCH_THRESHOLD
from features.linkage.pair import (
    NoRunModel,
    PairExplanation,
    Record,
    RecordKeyError,
    UnknownRecord,
    explain_pair,
)
from features.linkage.waterfall import Waterfall
from serving.api.common import event
from serving.api.problems import record_denied, request_id
from serving.api.schemas import HOUSEHOLD_REF
from serving.pages import charts
from serving.pages.i18n import LANGS, MESSAGES, message
from serving.pages.web import (
    PageError,
    PageServiceDep,
    Viewer,
    ViewerDep,
    audited,
    forbidden,
    lang_of,
    render,
)
from serving.runtime.service import Service

router = APIRouter(include_in_schema=False)
REF = re.compile(HOUSEHOLD_REF)
MAX_RECORDS = 500
"""At most this many linked records are listed for a household."""


class Refusal(Exception):
    """A 4xx answer with one sentence (``lk.error.<kind>``)."""

    def __init__(self, status: int, kind: str) -> None:
        super().__init__(kind)
        self.status, self.kind = status, kind


def _auditor(viewer: Viewer) -> None:
    if viewer.role != "auditor":
        raise forbidden()


@contextlib.contextmanager
def _warehouse(service: Service) -> Iterator[duckdb.DuckDBPyConnection]:
    path = service.settings.warehouse_path
    if not path.is_file():
        raise Refusal(404, "no_warehouse")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:  # a writer (ingest, link) holds it
        raise PageError(503, "unavailable") from None
    try:
        yield con
    finally:
        con.close()


def _households(con: duckdb.DuckDBPyConnection, persons: list[str]) -> list[str]:
    persons = [p for p in persons if p]
    if not persons:
        return []
    marks = ", ".join("?" for _ in persons)
    rows = con.execute(
        f"SELECT DISTINCT household_id FROM memberships WHERE person_id IN ({marks}) "
        "AND household_id IS NOT NULL ORDER BY 1", persons).fetchall()  # fmt: skip
    return [h for (h,) in rows]


def _records(service: Service, viewer: Viewer, rid: str, ref: str) -> list[dict[str, Any]]:
    """The household's linked records, audited (from a worker thread)."""
    with _warehouse(service) as con:
        try:
            rows = con.execute(
                """SELECT DISTINCT l.person_id, l.agency, l.record_id, l.method,
                          l.match_probability, r.name, year(r.birth_date), r.sex, r.village_code
                   FROM memberships m JOIN links l ON l.person_id = m.person_id
                   JOIN person_records r ON r.agency = l.agency AND r.record_id = l.record_id
                   WHERE m.household_id = ?
                   ORDER BY l.person_id, l.agency, l.record_id LIMIT ?""",
                [ref, MAX_RECORDS],
            ).fetchall()
        except duckdb.Error:  # a warehouse that was never linked
            rows = []
    if not rows:
        raise Refusal(404, "unknown_household")
    number: dict[str, int] = {}
    out = []
    for person, agency, record_id, method, p, name, year, sex, village in rows:
        out.append({
            "person": number.setdefault(person, len(number) + 1), "key": f"{agency}:{record_id}",
            "agency": agency, "name": mask_name(name), "birth_year": year, "sex": sex,
            "village": village, "method": method, "p": p,
        })  # fmt: skip
    audited(service, event(viewer.principal, rid, "read", "linked_records", household_id=ref,
                           detail={"records": len(out)}))  # fmt: skip
    return out


def _pair(service: Service, viewer: Viewer, rid: str, a: str, b: str) -> PairExplanation:
    """The pair's waterfall, audited (from a worker thread)."""
    with _warehouse(service) as con:
        try:
            found = explain_pair(con, a, b)
        except RecordKeyError as exc:
            kind = "same_record" if "two different" in str(exc) else "bad_key"
            raise Refusal(422, kind) from None
        except UnknownRecord:
            raise Refusal(404, "unknown_record") from None
        except NoRunModel:
            raise Refusal(404, "no_model") from None
        except duckdb.Error:  # a warehouse without linkage tables
            raise Refusal(404, "no_model") from None
        homes = _households(con, [found.left.person_id or "", found.right.person_id or ""])
    detail = {"records": [found.left.key, found.right.key],
              "match_weight": round(found.waterfall.match_weight, 3)}  # fmt: skip
    for home in homes or [None]:
        audited(service, event(viewer.principal, rid, "read", "link_waterfall",
                               household_id=home, detail=detail))  # fmt: skip
    return found


def _refused(request: Request, exc: Refusal) -> Response:
    """The forms with one sentence; nothing that was asked for is echoed (as the 404 page), so
    an unknown household or record answers the same whatever was asked."""
    if exc.status == 404:  # on the record, as every page's 404 (serving.runtime.denials)
        record_denied(request, 404, "not_found")
    sentence = message(lang_of(request), f"lk.error.{exc.kind}")
    context = {"error": sentence, "values": {"ref": "", "a": "", "b": ""},
               "lang_urls": {lang: f"?lang={lang}" for lang in LANGS}}  # fmt: skip
    return render(request, "audit_linkage.html", context, exc.status)


@router.get("/audit/linkage")
async def linkage_index(request: Request, viewer: ViewerDep, service: PageServiceDep) -> Response:
    """The forms; with ``?ref=``, the household's linked records (audited)."""
    _auditor(viewer)
    ref = (request.query_params.get("ref") or "").strip()
    values = {"ref": ref, "a": "", "b": ""}
    if not ref:
        return render(request, "audit_linkage.html", {"values": values})
    if not REF.match(ref):
        return _refused(request, Refusal(422, "bad_household"))
    try:
        records = await anyio.to_thread.run_sync(
            _records, service, viewer, request_id(request), ref
        )
    except Refusal as exc:
        return _refused(request, exc)
    lang = lang_of(request)
    return render(request, "audit_linkage.html", {
        "values": values, "ref": ref, "records": records,
        "method_label": lambda m: message(lang, f"lk.method.{m}") if m else "",
        "fmt_p": lambda p: "" if p is None else charts.fmt(float(p), 4),
    })  # fmt: skip


@router.get("/audit/linkage/pair")
async def linkage_pair(request: Request, viewer: ViewerDep, service: PageServiceDep) -> Response:
    """Two records and the waterfall of their match weight (audited)."""
    _auditor(viewer)
    q = request.query_params
    a, b = (q.get("a") or "").strip(), (q.get("b") or "").strip()
    values = {"ref": "", "a": a[:120], "b": b[:120]}
    try:
        found = await anyio.to_thread.run_sync(_pair, service, viewer, request_id(request), a, b)
    except Refusal as exc:
        return _refused(request, exc)
    lang = lang_of(request)
    w = found.waterfall
    context = {
        "values": values,
        "pair": [_side(found.left), _side(found.right)],
        "chart": waterfall_chart(w, lang),
        "rows": waterfall_rows(w, lang),
        "summary": message(lang, "lk.summary", w=_num(w.match_weight, lang),
                           p=charts.fmt(w.match_probability, 4), th=MATCH_THRESHOLD),
    }  # fmt: skip
    return render(request, "audit_linkage_pair.html", context)


def _side(rec: Record) -> dict[str, Any]:
    born = rec.columns.get("birth_date")
    p = rec.link_probability
    return {
        "key": rec.key,
        "agency": rec.agency,
        "name": mask_name(rec.name),
        "birth_year": getattr(born, "year", None),
        "sex": rec.columns.get("sex"),
        "village": rec.columns.get("address"),
        "method": rec.method,
        "p": None if p is None else charts.fmt(p, 4),
    }


def _num(value: float, lang: str) -> str:
    return charts.fmt(value) if math.isfinite(value) else message(lang, "lk.infinite")


def step_label(lang: str, comparison: str, level: str) -> str:
    """``<comparison>: <level>`` in ``lang`` (a term-frequency step names its column)."""
    if comparison.startswith("tf_"):
        return message(lang, "lk.tf", column=comparison_name(lang, comparison[3:]))
    key = f"lk.level.{level}"
    shown = message(lang, key) if key in MESSAGES else level
    return f"{comparison_name(lang, comparison)}: {shown}"


def comparison_name(lang: str, comparison: str) -> str:
    """A comparison's name in ``lang`` (its column name when unknown)."""
    key = f"lk.comparison.{comparison}"
    return message(lang, key) if key in MESSAGES else comparison


def waterfall_rows(w: Waterfall, lang: str) -> list[dict[str, str]]:
    """The table: prior, each step (level, m, u, partial weight, running total), the final
    match weight and probability; numbers as the chart shows them."""

    def p(v: float | None) -> str:
        return "" if v is None else f"{v:.4g}"  # 4 significant digits: u may be 1e-07

    prior = _num(w.prior_weight, lang)
    rows = [{"label": message(lang, "lk.prior", p=charts.fmt(w.prior, 6)), "m": "", "u": "",
             "weight": prior, "total": prior}]  # fmt: skip
    for s in w.steps:
        rows.append({"label": step_label(lang, s.comparison, s.level), "m": p(s.m), "u": p(s.u),
                     "weight": charts.signed(s.weight) if math.isfinite(s.weight)
                     else message(lang, "lk.infinite"), "total": _num(s.total, lang)})  # fmt: skip
    rows.append({"label": message(lang, "lk.final"), "m": "", "u": "", "weight": "",
                 "total": _num(w.match_weight, lang)})  # fmt: skip
    rows.append({"label": message(lang, "lk.probability"), "m": "", "u": "", "weight": "",
                 "total": charts.fmt(w.match_probability, 4)})  # fmt: skip
    return rows


def waterfall_chart(w: Waterfall, lang: str, svg_id: str = "match-waterfall") -> Markup | None:
    """The SVG waterfall (None when a weight is infinite: the table says so)."""
    if not all(math.isfinite(v) for v in [w.prior_weight, w.match_weight,
                                          *(s.weight for s in w.steps)]):  # fmt: skip
        return None
    p = charts.fmt(w.match_probability, 4)
    svg = charts.waterfall(
        w.prior_weight, [(step_label(lang, s.comparison, s.level), s.weight) for s in w.steps],
        w.match_weight, svg_id=svg_id, title=message(lang, "lk.chart.title"),
        axis_label=message(lang, "lk.chart.axis"),
        desc=message(lang, "lk.chart.desc", prior=charts.fmt(w.prior_weight),
                     w=charts.fmt(w.match_weight), p=p),
        base_label=message(lang, "lk.chart.prior"), other_label=message(lang, "lk.chart.other"),
        score_label=message(lang, "lk.chart.final", p=p),
    )  # fmt: skip
    return Markup(svg)  # noqa: S704 - charts escape every text they draw
