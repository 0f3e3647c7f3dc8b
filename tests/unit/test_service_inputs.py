"""Inputs the review found accepted or crashing (issue 18, item 4): each first a failing test.

- the four 500s: ``before_id`` past 64 bits, ``since``/``until`` that overflow when moved to
  UTC, and the audit page's ``to=9999-12-31``;
- ``visit_date`` must be within the last 366 days and never in the future;
- control characters in free text are refused (a NUL byte was stored);
- the ID-number filter catches spaced, dashed and full-width forms;
- database errors never carry bound parameters (``hide_parameters`` on the engines).
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from pydantic import ValidationError
from support.bare_service import bare_app, bare_settings, bearer, client, token
from support.pages import csrf_of

from serving.api.problems import ApiError
from serving.api.records import check_visit_date
from serving.api.schemas import CorrectionCreate, OutcomeCreate, contains_id_number
from serving.store import db, tables

ID = "330226198001011230"


@pytest.fixture(scope="module")
def bare(tmp_path_factory):
    settings = bare_settings(tmp_path_factory.mktemp("bare"))
    auditor = token(settings, "auditor")
    app = bare_app(settings)
    with client(app) as c:
        yield c, auditor


@pytest.mark.parametrize(
    "query",
    [
        "before_id=9223372036854775808",
        "before_id=99999999999999999999999",
        "since=0001-01-01T00:00:00%2B23:59",
        "since=9999-12-31T23:59:59-23:59",
        "until=9999-12-31T23:59:59-23:59",
        "until=0001-01-01T00:00:00%2B23:59",
    ],
)
def test_audit_query_values_that_gave_500s_answer_422(bare, query) -> None:
    c, auditor = bare
    r = c.get(f"/api/v1/audit?{query}", headers=bearer(auditor))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("query", ["to=9999-12-31", "from=9999-12-31", "from=0001-01-01"])
def test_the_audit_page_answers_far_dates_without_a_500(bare, query) -> None:
    c, auditor = bare
    form = c.get("/signin")
    r = c.post("/signin", data={"token": auditor, "csrf_token": csrf_of(form.text)},
               follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    assert c.get(f"/audit/log?{query}").status_code in (200, 422)


TODAY = dt.date(2026, 12, 7)


def _outcome(days_ago: int) -> dict:
    when = dt.date.today() - dt.timedelta(days=days_ago)
    return {"visit_date": when.isoformat(), "outcome": "visited"}


@pytest.mark.parametrize("days_ago", [367, 5000, 739000, -1])
def test_implausible_visit_dates_are_refused(days_ago) -> None:
    days_ago = min(days_ago, (TODAY - dt.date.min).days)
    with pytest.raises(ApiError, match="^visit_date: ") as err:
        check_visit_date(TODAY - dt.timedelta(days=days_ago), TODAY)
    assert err.value.status == 422


@pytest.mark.parametrize("days_ago", [0, 1, 366])
def test_visit_dates_in_the_last_366_days_are_accepted(days_ago) -> None:
    check_visit_date(TODAY - dt.timedelta(days=days_ago), TODAY)


def test_year_one_is_refused() -> None:
    with pytest.raises(ApiError, match="visit_date"):
        check_visit_date(
            OutcomeCreate(visit_date="0001-01-01", outcome="visited").visit_date, TODAY
        )


@pytest.mark.parametrize("bad", ["a\x00b", "x\x1by", "\x7f", "bell\x07", "a\u0085b"])
def test_control_characters_are_refused_in_free_text(bad) -> None:
    with pytest.raises(ValidationError, match="control character"):
        OutcomeCreate(**_outcome(1), note=bad)
    with pytest.raises(ValidationError, match="control character"):
        CorrectionCreate(item="vehicle", correction=bad, reason="r")


def test_line_breaks_and_tabs_stay_allowed_in_notes() -> None:
    note = "line one\r\nline two\tend"
    assert OutcomeCreate(**_outcome(1), note=note).note == note


@pytest.mark.parametrize(
    "text",
    [
        ID,
        "330226 19800101 123X",
        "330226-19800101-1230",
        "3302 2619 8001 0112 30",
        "３３０２２６１９８００１０１１２３０",  # full-width digits
        "３３０２２６　１９８００１０１　１２３Ｘ",  # full-width digits, spaces and X
        "330226\u200b19800101\u200b1230",  # zero-width spaces
        "330226198001011",  # 15-digit (first generation)
        "id:330226.19800101.123x",
    ],
)
def test_the_id_filter_catches_spaced_and_full_width_forms(text) -> None:
    assert contains_id_number(text)
    with pytest.raises(ValidationError, match="ID number"):
        OutcomeCreate(**_outcome(1), note=f"seen {text} today")


@pytest.mark.parametrize(
    "text", ["phone 13800138000", "visited 2025-01-06, 3 people", "room 12 34", "金额 1200 元"]
)
def test_the_id_filter_lets_ordinary_numbers_through(text) -> None:
    assert not contains_id_number(text)


def test_database_errors_carry_no_bound_parameters(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite3'}"
    db.upgrade(url)
    engine = db.make_engine(url)
    secret = "note-with-private-words"
    try:
        with pytest.raises(sa.exc.IntegrityError) as caught, engine.begin() as conn:
            conn.execute(
                tables.visit_outcomes.insert().values(
                    household_id="H" + "0" * 24,
                    visit_date=dt.date.today(),
                    outcome="bogus",
                    programs_started=[],
                    note=secret,
                    recorded_by="t",
                    recorded_at=dt.datetime.now(dt.UTC),
                )  # fmt: skip
            )
    finally:
        engine.dispose()
    assert secret not in str(caught.value)
    assert engine.hide_parameters
