"""A write and its audit row commit together (issue 18, item 2): the review found an outcome
committed before its audit row was appended, so a failed append left a write with no row."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from support.bare_service import (
    TOWNSHIP,
    bare_app,
    bare_settings,
    bearer,
    client,
    seed_household,
    token,
)

from serving.store import chain, db, tables

OUTCOME = {"visit_date": dt.date.today().isoformat(), "outcome": "visited", "note": "ok"}
CORRECTION = {"item": "vehicle", "correction": "not theirs", "reason": "sold"}


@pytest.fixture
def setup(tmp_path):
    settings = bare_settings(tmp_path)
    ref = seed_household(settings)
    cw = token(settings, "caseworker", TOWNSHIP)
    return settings, ref, cw


def _count(settings, table) -> int:
    engine = db.make_engine(settings.service_db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    finally:
        engine.dispose()


@pytest.mark.parametrize(("path", "body", "table"), [
    ("outcomes", OUTCOME, tables.visit_outcomes),
    ("corrections", CORRECTION, tables.corrections),
])  # fmt: skip
def test_no_write_commits_when_its_audit_row_cannot_be(setup, monkeypatch, path, body, table):
    settings, ref, cw = setup

    def refuse(*_a, **_k):
        raise sa.exc.OperationalError("INSERT INTO audit_log", None, Exception("disk I/O error"))

    with client(bare_app(settings)) as c:
        monkeypatch.setattr(chain, "append", refuse)
        r = c.post(f"/api/v1/households/{ref}/{path}", json=body, headers=bearer(cw))
        monkeypatch.undo()
        assert r.status_code == 503, r.text
        assert _count(settings, table) == 0
        ok = c.post(f"/api/v1/households/{ref}/{path}", json=body, headers=bearer(cw))
        assert ok.status_code == 201, ok.text
    assert _count(settings, table) == 1
    engine = db.make_engine(settings.service_db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(tables.audit_log).where(
                tables.audit_log.c.action == "write")).mappings().all()  # fmt: skip
            assert len(rows) == 1 and rows[0]["detail"]["id"] == ok.json()["id"]
            assert chain.verify(conn).ok
    finally:
        engine.dispose()
