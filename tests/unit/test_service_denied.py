"""Refusals on the record (issue 18, item 2): the review found that 401s, 403s, out-of-area
404s and failed sign-ins left no audit row and no log line. Now each is a ``denied`` row (the
route, the reason, the token id when known), capped per caller a minute, then one row with the
count."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from support.bare_service import (
    bare_app,
    bare_settings,
    bearer,
    client,
    seed_household,
    token,
)

from serving.store import chain, db, tables


@pytest.fixture
def setup(tmp_path):
    settings = bare_settings(tmp_path)
    ref = seed_household(settings)
    toks = {
        "own": token(settings, "caseworker", "330226001"),
        "other": token(settings, "caseworker", "330226002"),
        "auditor": token(settings, "auditor"),
    }
    app = bare_app(settings, denied_rows_per_minute=5)
    with client(app) as c:
        yield settings, app, c, ref, toks


def _denied(settings) -> list[dict]:
    engine = db.make_engine(settings.service_db_url)
    try:
        with engine.connect() as conn:
            q = sa.select(tables.audit_log).where(tables.audit_log.c.action == "denied")
            rows = [dict(r) for r in conn.execute(q.order_by(tables.audit_log.c.id)).mappings()]
            assert chain.verify(conn).ok
            return rows
    finally:
        engine.dispose()


def test_refusals_are_audited_with_route_reason_and_token(setup, caplog) -> None:
    settings, app, c, ref, toks = setup
    caplog.set_level(logging.INFO)
    bad = toks["own"][:-1] + ("A" if toks["own"][-1] != "A" else "B")
    assert c.get("/api/v1/me", headers=bearer(bad)).status_code == 401
    assert c.get("/api/v1/audit", headers=bearer(toks["own"])).status_code == 403
    assert c.get(f"/api/v1/households/{ref}", headers=bearer(toks["other"])).status_code == 404
    assert c.get(f"/api/v1/households/H{'1' * 24}", headers=bearer(toks["own"])).status_code == 404
    form = c.get("/signin")
    from support.pages import csrf_of

    csrf = csrf_of(form.text)
    assert c.post("/signin", data={"token": bad, "csrf_token": csrf}).status_code == 401
    assert c.post("/signin", data={"token": toks["own"], "csrf_token": "x"}).status_code == 403
    app.state.service.audit.flush()
    rows = _denied(settings)
    got = [(r["actor"], r["detail"]["status"], r["detail"]["reason"], r["resource"]) for r in rows]
    own_id, other_id = toks["own"].split("_")[1], toks["other"].split("_")[1]
    assert got == [
        ("anonymous", 401, "token", "/api/v1/me"),
        (own_id, 403, "role", "/api/v1/audit"),
        (other_id, 404, "outside_area", "/api/v1/households/{household_ref}"),
        (own_id, 404, "unknown_household", "/api/v1/households/{household_ref}"),
        ("anonymous", 401, "signin", "/signin"),
        ("anonymous", 403, "csrf", "/signin"),
    ]
    assert rows[0]["detail"]["claimed_token"] == own_id
    assert rows[2]["household_id"] == ref
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("denied")]
    assert len(lines) == 6 and all(ref not in line for line in lines)


def test_refusals_are_capped_per_caller_then_counted(setup) -> None:
    settings, app, c, _ref, toks = setup
    denials = app.state.service.denials
    now = [1000.0]
    denials._clock = lambda: now[0]
    for _ in range(25):
        assert c.get("/api/v1/audit", headers=bearer(toks["own"])).status_code == 403
    now[0] += 61
    assert denials.flush() == 1
    app.state.service.audit.flush()
    rows = _denied(settings)
    assert len(rows) == 5 + 1
    assert rows[-1]["resource"] == "denied_suppressed" and rows[-1]["detail"]["count"] == 20
