"""Coverage for supervisors and the field list's visit states, on the scored fixture county.

After a set of outcomes recorded through the pages, every figure of ``/coverage/{code}`` (and
its CSV) equals a count taken straight from the service database with plain SQL.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
import sqlalchemy as sa
from support.pages import csrf_of, service_engine

from serving.pages.coverage_data import Coverage

pytestmark = pytest.mark.integration

TOWNSHIP = "330226001"
TODAY = dt.date.today().isoformat()
OUTCOMES = [  # (list index, outcome, programs started)
    (0, "in_need", ["dibao", "medical_assistance"]),
    (1, "visited", []),
    (2, "not_found", []),
    (2, "not_in_need", []),  # found on a second visit
    (3, "not_found", []),
    (4, "in_need", []),
]
VISITED = "('visited', 'in_need', 'not_in_need')"


def _refs(html: str) -> list[str]:
    return re.findall(r'data-testid="list-row" data-ref="(H[0-9a-f]{24})"', html)


def _figures(html: str) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for code, body in re.findall(
        r'<tr data-testid="coverage-row" data-code="(\d+)">(.*?)</tr>', html, re.S
    ):
        cells = re.findall(r'data-field="(\w+)">(\d+)<', body)
        out.setdefault(code, {f: int(v) for f, v in cells})
    return out


def _expected(settings, code: str, overdue_all: bool) -> dict[str, int]:
    """The figures of ``code`` straight from the database (the latest complete run)."""
    area = "s.township_code" if len(code) == 9 else "s.village_code"
    listed = (
        "SELECT DISTINCT le.household_id AS hh, MAX(CASE WHEN le.exploration THEN 1 ELSE 0 END) "
        "AS x FROM list_entries le JOIN scores s ON s.run_id = le.run_id AND s.household_id = "
        f"le.household_id WHERE le.run_id = :run AND {area} = :code GROUP BY le.household_id"
    )
    o = "SELECT household_id, outcome, programs_started FROM visit_outcomes WHERE run_id = :run"
    engine = service_engine(settings)
    try:
        with engine.connect() as conn:
            run = conn.execute(sa.text(
                "SELECT run_id FROM score_runs WHERE status = 'complete' "
                "ORDER BY as_of DESC, finished_at DESC LIMIT 1"
            )).scalar_one()  # fmt: skip
            rows = conn.execute(sa.text(listed), {"run": run, "code": code}).all()
            q = f"SELECT COUNT(*) FROM ({listed}) l WHERE %s"
            one = lambda where: conn.execute(  # noqa: E731
                sa.text(q % where), {"run": run, "code": code}
            ).scalar_one()
            seen = "l.hh IN (SELECT household_id FROM visit_outcomes WHERE run_id = :run AND %s)"
            got = {
                "listed": len(rows),
                "visited": one(seen % f"outcome IN {VISITED}"),
                "recorded": one(seen % "1 = 1"),
                "in_need": one(seen % "outcome = 'in_need'"),
                "applications": one(seen % "programs_started <> '[]'"),
                "exploration_listed": one("l.x = 1"),
                "exploration_visited": one("l.x = 1 AND " + seen % f"outcome IN {VISITED}"),
            }
            got["overdue"] = got["listed"] - got["visited"] if overdue_all else 0
            assert conn.execute(sa.text(o), {"run": run}).all()
    finally:
        engine.dispose()
    return got


def test_coverage_equals_counts_from_the_database(app, browsers, s) -> None:
    c = browsers["caseworker"]
    refs = _refs(c.get(f"/lists/{TOWNSHIP}").text)
    assert len(refs) >= 5
    for index, outcome, programs in OUTCOMES:
        url = f"/households/{refs[index]}"
        form = {"csrf_token": csrf_of(c.get(url).text), "outcome": outcome,
                "visit_date": TODAY, "programs_started": programs}  # fmt: skip
        assert c.post(f"{url}/outcome", data=form).status_code == 303
    settings = app.state.service.settings
    sup = browsers["supervisor"]
    for days, overdue_all in ((14, False), (0, True)):
        page = sup.get(f"/coverage/{TOWNSHIP}?days={days}")
        assert page.status_code == 200
        figures = _figures(page.text)
        assert set(figures) >= {TOWNSHIP} and len(figures) >= 2
        for code, shown in figures.items():
            assert shown == _expected(settings, code, overdue_all), code
        villages = [code for code in figures if code != TOWNSHIP]
        total = {f: sum(figures[v][f] for v in villages) for f in Coverage.FIELDS}
        assert total == figures[TOWNSHIP]
        assert figures[TOWNSHIP]["visited"] >= 4 and figures[TOWNSHIP]["applications"] >= 1
        exported = sup.get(f"/coverage/{TOWNSHIP}/export.csv?days={days}")
        table = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
        assert table[0][0] == "地区" and len(table) == len(figures) + 1
        for row in table[1:]:
            assert dict(zip(Coverage.FIELDS, map(int, row[1:]), strict=True)) == figures[row[0]]
    village = next(code for code in figures if code != TOWNSHIP)
    one = sup.get(f"/coverage/{village}").text
    assert _figures(one) == {village: _expected(settings, village, False)}


def test_the_list_shows_visit_states_and_filters_without_js(app, browsers) -> None:
    c = browsers["caseworker"]
    page = c.get(f"/lists/{TOWNSHIP}").text
    refs = _refs(page)
    assert page.count('data-testid="visit-state"') == len(refs)
    assert page.count('data-testid="village-group"') >= 2
    pending = _refs(c.get(f"/lists/{TOWNSHIP}?pending=1").text)
    visited = set(re.findall(r'data-ref="(H[0-9a-f]{24})"[^>]*data-visited="1"', page))
    assert pending == [r for r in refs if r not in visited]
    picked = refs[1:3]
    query = "&".join(f"ref={r}" for r in picked)
    # the selection, in the page's own order (grouped by village: two picks from two villages
    # may come in either order)
    assert sorted(_refs(c.get(f"/lists/{TOWNSHIP}?{query}").text)) == sorted(picked)
    printed = c.get(f"/lists/{TOWNSHIP}/print?{query}").text
    sheets = re.findall(r'data-testid="print-sheet" data-ref="(H[0-9a-f]{24})"', printed)
    assert sorted(sheets) == sorted(picked)
    exported = c.get(f"/lists/{TOWNSHIP}/export.csv?{query}").content.decode("utf-8-sig")
    rows = [row[1] for row in list(csv.reader(io.StringIO(exported)))[1:]]
    assert sorted(rows) == sorted(picked)


def test_coverage_stays_in_the_viewer_area(app, browsers) -> None:
    cw = browsers["caseworker"]
    assert cw.get(f"/coverage/{TOWNSHIP}").status_code == 200
    foreign, missing = cw.get("/coverage/330226002"), cw.get("/coverage/330226999")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content
    assert browsers["supervisor"].get("/coverage").text.count('data-testid="coverage-link"') >= 2
