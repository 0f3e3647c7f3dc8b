"""Abuse limits (issue 18, item 3). The review found a 20 MB body with no token read in full
before the 401, malformed JSON without a token answered 422 instead of 401, and 25 wrong
tokens in 0.08 s all answered with no throttling; a locked database made requests hang."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from support.bare_service import (
    TOWNSHIP,
    bare_app,
    bare_settings,
    bearer,
    client,
    seed_household,
    token,
)


@pytest.fixture
def setup(tmp_path):
    settings = bare_settings(tmp_path)
    ref = seed_household(settings)
    cw = token(settings, "caseworker", TOWNSHIP)
    return settings, ref, cw


def test_a_large_body_is_refused_before_it_is_read(setup) -> None:
    settings, ref, cw = setup
    with client(bare_app(settings)) as c:
        big = b"x" * (20 * 1024 * 1024)
        r = c.post(f"/api/v1/households/{ref}/outcomes", content=big, headers=bearer(cw))
        assert r.status_code == 413
        r = c.post(f"/api/v1/households/{ref}/outcomes", content=big)
        assert r.status_code == 413

        def chunks():
            for _ in range(100):
                yield b"x" * 100_000

        r = c.post(f"/api/v1/households/{ref}/outcomes", content=chunks(), headers=bearer(cw))
        assert r.status_code == 413


def test_the_api_authenticates_before_it_parses(setup) -> None:
    settings, ref, _cw = setup
    with client(bare_app(settings)) as c:
        r = c.post(f"/api/v1/households/{ref}/outcomes", content=b"{not json",
                   headers={"content-type": "application/json"})  # fmt: skip
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        r = c.post(f"/api/v1/households/{ref}/outcomes", content=b"{not json",
                   headers={**bearer("otk_0123456789_" + "A" * 43),
                            "content-type": "application/json"})  # fmt: skip
        assert r.status_code == 401


def test_wrong_tokens_from_one_address_are_throttled_with_retry_after(setup) -> None:
    settings, _ref, cw = setup
    app = bare_app(settings, anonymous_per_minute=10)
    with client(app) as c:
        bad = bearer(cw[:-1] + ("A" if cw[-1] != "A" else "B"))
        codes = [c.get("/api/v1/me", headers=bad).status_code for _ in range(25)]
        assert codes[:10] == [401] * 10 and set(codes[10:]) == {429}
        r = c.get("/api/v1/me", headers=bad)
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert c.get("/api/v1/me", headers=bearer(cw)).status_code == 200  # a valid token passes
        form = c.get("/signin")
        assert form.status_code == 200
        assert c.post("/signin", data={"token": "x", "csrf_token": "y"}).status_code == 429


def test_only_failed_sign_ins_spend_the_address_budget(setup) -> None:
    """A caseworker signing in again and again is never throttled; a guesser is, after 10."""
    from support.pages import csrf_of, sign_in

    settings, _ref, cw = setup
    app = bare_app(settings, anonymous_per_minute=10)
    for _ in range(15):  # 15 good sign-ins from one address, each a 303 to a session
        sign_in(app, cw)
    with client(app) as c:
        codes = []
        for _ in range(12):
            form = c.get("/signin")
            data = {"token": "otk_wrong", "csrf_token": csrf_of(form.text)}
            codes.append(c.post("/signin", data=data).status_code)
        assert codes[:10] == [401] * 10 and set(codes[10:]) == {429}
        form = c.get("/signin")  # the budget is spent: even a good token waits now
        good = {"token": cw, "csrf_token": csrf_of(form.text)}
        assert c.post("/signin", data=good, follow_redirects=False).status_code == 429


def test_one_token_is_throttled_per_second(setup) -> None:
    settings, _ref, cw = setup
    with client(bare_app(settings, token_requests_per_second=5)) as c:
        codes = [c.get("/api/v1/me", headers=bearer(cw)).status_code for _ in range(20)]
        assert 200 in codes and 429 in codes


def test_a_locked_database_answers_503_within_the_wait(setup) -> None:
    """SQLite locked by another writer: the request answers 503 within ``db_wait_seconds``."""
    import sqlite3

    settings, ref, cw = setup
    path = str(settings.service_db_url).removeprefix("sqlite:///")
    with client(bare_app(settings, db_wait_seconds=1.0)) as c:
        assert c.get("/api/v1/me", headers=bearer(cw)).status_code == 200
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            started = time.monotonic()
            body = {"visit_date": dt.date.today().isoformat(), "outcome": "visited"}
            r = c.post(f"/api/v1/households/{ref}/outcomes", json=body, headers=bearer(cw))
            took = time.monotonic() - started
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert r.status_code == 503 and "retry-after" in r.headers
        assert took < 4, took
        r = c.post(f"/api/v1/households/{ref}/outcomes", json=body, headers=bearer(cw))
        assert r.status_code == 201
