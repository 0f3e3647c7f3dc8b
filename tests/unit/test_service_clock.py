"""The service's clock and its in-process write path (issue 15, the twin's service hooks).

- the visit-date rule and ``recorded_at`` follow the clock given to ``create_app`` (a twin
  records outcomes dated in simulated months); audit rows keep the wall clock;
- :func:`serving.api.records.record_outcomes` writes the same outcome rows and audit rows as
  the HTTP route, with the same refusals.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from support.bare_service import (
    TOWNSHIP,
    UNLIMITED,
    bare_settings,
    bearer,
    client,
    no_champion,
    seed_household,
    token,
)

from core.months import LOCAL_TZ
from serving.api.problems import ApiError
from serving.api.records import record_outcomes
from serving.app import create_app
from serving.runtime.service import Service, ServiceOptions
from serving.store import chain, db, tables

SIMULATED = dt.datetime(2024, 6, 15, 9, 30, tzinfo=LOCAL_TZ)
"""A simulated "now", far enough in the past that the wall clock refuses its month's visits."""


def _app(settings, clock=None):
    options = ServiceOptions(token_cache_seconds=0, poll_seconds=60, **UNLIMITED)
    return create_app(settings, options, watcher=no_champion(), clock=clock)


@pytest.fixture
def setup(tmp_path):
    settings = bare_settings(tmp_path)
    ref = seed_household(settings)
    return settings, ref, token(settings, "caseworker", TOWNSHIP)


def _rows(settings, table) -> list[dict]:
    engine = db.make_engine(settings.service_db_url)
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(table).order_by(table.c.id)).mappings()]
    finally:
        engine.dispose()


def test_the_visit_date_rule_follows_the_given_clock(setup) -> None:
    settings, ref, cw = setup
    url = f"/api/v1/households/{ref}/outcomes"
    body = {"visit_date": "2024-06-01", "outcome": "in_need", "programs_started": ["dibao"]}
    with client(_app(settings)) as c:  # the wall clock: more than 366 days ago
        r = c.post(url, json=body, headers=bearer(cw))
        assert r.status_code == 422 and "within 366 days" in r.json()["detail"], r.text
    before = dt.datetime.now(dt.UTC)
    with client(_app(settings, clock=lambda: SIMULATED)) as c:
        ok = c.post(url, json=body, headers=bearer(cw))
        assert ok.status_code == 201, ok.text
        later = c.post(url, json={**body, "visit_date": "2024-06-16"}, headers=bearer(cw))
        assert later.status_code == 422, later.text
        assert later.json()["detail"] == "visit_date: a visit cannot be in the future"
        too_old = c.post(url, json={**body, "visit_date": "2023-06-14"}, headers=bearer(cw))
        assert too_old.status_code == 422 and "366" in too_old.json()["detail"]
        edge = c.post(url, json={**body, "visit_date": "2023-06-15"}, headers=bearer(cw))
        assert edge.status_code == 201, edge.text
    (first, _), audit = _rows(settings, tables.visit_outcomes), _rows(settings, tables.audit_log)
    assert first["recorded_at"] == SIMULATED.astimezone(dt.UTC)
    assert ok.json()["recorded_at"].startswith("2024-06-15T01:30:00")
    writes = [a for a in audit if a["action"] == "write"]
    assert len(writes) == 2 and all(a["at"] >= before for a in writes)  # audit: the wall clock


def test_today_is_the_local_date_of_the_clock(tmp_path) -> None:
    settings = bare_settings(tmp_path)
    late = dt.datetime(2024, 6, 30, 17, 0, tzinfo=dt.UTC)  # 01:00 on 1 July in Shanghai
    service = Service(settings, watcher=no_champion(), clock=lambda: late)
    try:
        assert service.today() == dt.date(2024, 7, 1)
        assert service.now() == late
    finally:
        service.engine.dispose()
    naive = Service(settings, watcher=no_champion(), clock=lambda: dt.datetime(2024, 6, 30))
    try:
        with pytest.raises(ValueError, match="tz-aware"):
            naive.today()
    finally:
        naive.engine.dispose()


def _comparable(rows: list[dict], drop: set[str]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in drop} for r in rows]


def test_in_process_outcomes_equal_what_the_route_writes(tmp_path) -> None:
    outcomes = [
        {"visit_date": "2024-06-03", "outcome": "in_need", "programs_started": ["dibao"],
         "note": "alone, no income"},
        {"visit_date": "2024-06-10", "outcome": "not_in_need"},
        {"visit_date": "2024-06-12", "outcome": "not_found"},
    ]  # fmt: skip
    written = {}
    for how in ("http", "inproc"):
        settings = bare_settings(tmp_path / how)
        ref = seed_household(settings)
        cw = token(settings, "caseworker", TOWNSHIP)
        app = _app(settings, clock=lambda: SIMULATED)
        if how == "http":
            with client(app) as c:
                for o in outcomes:
                    r = c.post(f"/api/v1/households/{ref}/outcomes", json=o, headers=bearer(cw))
                    assert r.status_code == 201, r.text
        else:
            service = app.state.service.start()
            try:
                visits = record_outcomes(
                    service, cw, [{"household_ref": ref, **o} for o in outcomes]
                )
            finally:
                service.close()
            assert [v.outcome for v in visits] == [o["outcome"] for o in outcomes]
        engine = db.make_engine(settings.service_db_url)
        try:
            with engine.connect() as conn:
                assert chain.verify(conn).ok
        finally:
            engine.dispose()
        tokens = {r["id"] for r in _rows(settings, tables.api_tokens)}
        assert len(tokens) == 1
        visits_rows = _rows(settings, tables.visit_outcomes)
        assert {r["recorded_by"] for r in visits_rows} == tokens
        audit = [a for a in _rows(settings, tables.audit_log) if a["action"] == "write"]
        assert {a["actor"] for a in audit} == tokens
        written[how] = (
            _comparable(visits_rows, {"recorded_by"}),
            _comparable(audit, {"id", "at", "actor", "request_id", "prev_hash", "row_hash"}),
        )
    assert written["inproc"] == written["http"]
    assert len(written["http"][0]) == 3 and len(written["http"][1]) == 3


def test_in_process_refusals_are_the_routes(setup) -> None:
    settings, ref, cw = setup
    service = _app(settings, clock=lambda: SIMULATED).state.service.start()
    try:
        cases = [
            ("not-a-token", [{"household_ref": ref, "visit_date": "2024-06-01",
                              "outcome": "visited"}], 401),
            (cw, [{"household_ref": ref, "visit_date": "2024-06-16", "outcome": "visited"}], 422),
            (cw, [{"household_ref": ref, "visit_date": "2024-06-01", "outcome": "maybe"}], 422),
            (cw, [{"household_ref": "H" + "cd" * 12, "visit_date": "2024-06-01",
                   "outcome": "visited"}], 404),
            (cw, [{"household_ref": ref, "visit_date": "2024-06-01", "outcome": "visited",
                   "extra": 1}], 422),
        ]  # fmt: skip
        for tok, items, status in cases:
            with pytest.raises(ApiError) as err:
                record_outcomes(service, tok, items)
            assert err.value.status == status, (items, err.value.detail)
        mixed = [
            {"household_ref": ref, "visit_date": "2024-06-01", "outcome": "visited"},
            {"household_ref": ref, "visit_date": "not a date", "outcome": "visited"},
        ]
        with pytest.raises(ApiError, match=r"^outcomes\[1\]\.visit_date"):
            record_outcomes(service, cw, mixed)
    finally:
        service.close()
    assert _rows(settings, tables.visit_outcomes) == []  # nothing written before all are valid
