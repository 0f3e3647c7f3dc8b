"""Sessions and holders (issue 18, item 6). The review found the cookie's ``Secure`` flag lost
behind a TLS proxy (or believed from anyone), no idle timeout, a sign-out deny-list in memory
(a restart forgot it) and tokens without a holder, so the audit log named a token, not a
person."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from support.bare_service import bare_app, bearer, client
from support.pages import csrf_of

from core.errors import ConfigError
from core.settings import load_settings
from serving.runtime import auth
from serving.store import db, tables

PROXY = ("10.0.0.7", 5555)


def _settings(tmp_path, **service):
    return load_settings(tmp_path, environ={}, service=service)


def _token(settings, role="auditor", jurisdiction=None, holder="Chen Jing") -> str:
    db.upgrade(settings.service_db_url)
    engine = db.make_engine(settings.service_db_url)
    try:
        with engine.begin() as conn:
            value, _ = auth.create_token(conn, role, jurisdiction, holder=holder)
    finally:
        engine.dispose()
    return value


def _sign_in(c, value: str, headers=None):
    """Sign in; the sign-in cookie is sent back by hand (the test client, talking http to the
    proxy's side, would keep a Secure cookie to itself, as a browser talking https would not)."""
    form = c.get("/signin", headers=headers)
    pre = form.headers["set-cookie"].split(";")[0]
    c.cookies.clear()
    return c.post("/signin", data={"token": value, "csrf_token": csrf_of(form.text)},
                  headers={**(headers or {}), "Cookie": pre}, follow_redirects=False)  # fmt: skip


def _session_rows(settings) -> list[dict]:
    engine = db.make_engine(settings.service_db_url)
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(tables.web_sessions)).mappings()]
    finally:
        engine.dispose()


def _age_sessions(settings, **delta) -> None:
    engine = db.make_engine(settings.service_db_url)
    back = dt.timedelta(**delta)
    try:
        with engine.begin() as conn:
            for row in conn.execute(sa.select(tables.web_sessions)).mappings():
                conn.execute(tables.web_sessions.update()
                             .where(tables.web_sessions.c.id == row["id"])
                             .values(started_at=row["started_at"] - back,
                                     seen_at=row["seen_at"] - back))  # fmt: skip
    finally:
        engine.dispose()


def _secure(response) -> bool:
    cookie = next(v for k, v in response.headers.multi_items()
                  if k == "set-cookie" and v.startswith("outreach_session="))  # fmt: skip
    return "secure" in cookie.lower().split("; ")


def test_the_secure_cookie_follows_the_trusted_proxy_setting(tmp_path) -> None:
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.4"}
    untrusted = _settings(tmp_path)
    value = _token(untrusted)
    with client(bare_app(untrusted), client=PROXY) as c:
        r = _sign_in(c, value, https)
        assert r.status_code == 303 and not _secure(r)  # nobody's forwarded headers believed
    trusted = _settings(tmp_path, trusted_proxies=["10.0.0.0/24"])
    app = bare_app(trusted)
    with client(app, client=PROXY) as c:
        r = _sign_in(c, value, https)
        assert r.status_code == 303 and _secure(r)
        assert r.headers["strict-transport-security"].startswith("max-age=")
    with client(app, client=PROXY) as c:
        r = _sign_in(c, value, {"X-Forwarded-Proto": "http"})
        assert r.status_code == 303 and not _secure(r)
    with client(app, client=("192.0.2.1", 1)) as c:  # not a proxy of the list
        r = _sign_in(c, value, https)
        assert r.status_code == 303 and not _secure(r)


def test_a_trusted_proxy_names_the_client_that_is_limited_and_audited(tmp_path) -> None:
    settings = _settings(tmp_path, trusted_proxies=["10.0.0.7"])
    app = bare_app(settings, anonymous_per_minute=2)
    with client(app, client=PROXY) as c:
        for _ in range(3):
            r = c.get("/api/v1/me", headers={"X-Forwarded-For": "198.51.100.4"})
        assert r.status_code == 429  # that client's bucket is spent...
        r = c.get("/api/v1/me", headers={"X-Forwarded-For": "198.51.100.5"})
        assert r.status_code == 401  # ...not the proxy's, shared by everyone behind it
    engine = db.make_engine(settings.service_db_url)
    with engine.connect() as conn:
        details = conn.execute(sa.select(tables.audit_log.c.detail)).scalars().all()
    engine.dispose()
    clients = {d.get("client") for d in details if d}
    assert clients <= {"198.51.100.4", "198.51.100.5"} and "198.51.100.4" in clients


def test_a_signed_out_cookie_is_refused_after_a_restart(tmp_path) -> None:
    settings = _settings(tmp_path)
    value = _token(settings)
    with client(bare_app(settings)) as c:
        assert _sign_in(c, value).status_code == 303
        cookie = c.cookies.get("outreach_session")
        kept = c.get("/audit", follow_redirects=False)
        assert kept.status_code == 200
        c.post("/signout", data={"csrf_token": csrf_of(kept.text)})
        c.cookies.set("outreach_session", cookie)  # a copy kept by someone
        assert c.get("/audit", follow_redirects=False).status_code == 303
    with client(bare_app(settings)) as c:  # a new process on the same database
        c.cookies.set("outreach_session", cookie)
        r = c.get("/audit", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/signin"
    (row,) = _session_rows(settings)
    assert row["end_reason"] == "signed_out" and row["ended_at"] is not None
    assert cookie not in str(row)  # the nonce itself is not stored


def test_a_live_session_survives_a_restart(tmp_path) -> None:
    settings = _settings(tmp_path)
    value = _token(settings)
    with client(bare_app(settings)) as c:
        _sign_in(c, value)
        cookie = c.cookies.get("outreach_session")
    with client(bare_app(settings)) as c:
        c.cookies.set("outreach_session", cookie)
        assert c.get("/audit", follow_redirects=False).status_code == 200


def test_an_idle_session_ends(tmp_path) -> None:
    settings = _settings(tmp_path, session_idle_minutes=30)
    value = _token(settings)
    with client(bare_app(settings)) as c:
        _sign_in(c, value)
        assert c.get("/audit", follow_redirects=False).status_code == 200
        _age_sessions(settings, minutes=20)
        assert c.get("/audit", follow_redirects=False).status_code == 200  # used: seen again
        _age_sessions(settings, minutes=31)
        assert c.get("/audit", follow_redirects=False).status_code == 303
        assert c.get("/audit", follow_redirects=False).status_code == 303  # ended for good
    (row,) = _session_rows(settings)
    assert row["end_reason"] == "idle"


def test_a_session_ends_at_its_absolute_lifetime_however_used(tmp_path) -> None:
    settings = _settings(tmp_path, session_idle_minutes=30, session_hours=2)
    value = _token(settings)
    with client(bare_app(settings)) as c:
        _sign_in(c, value)
        engine = db.make_engine(settings.service_db_url)
        with engine.begin() as conn:  # started 2 h ago, used a minute ago
            now = dt.datetime.now(dt.UTC)
            conn.execute(tables.web_sessions.update().values(
                started_at=now - dt.timedelta(hours=2, minutes=1),
                seen_at=now - dt.timedelta(minutes=1)))  # fmt: skip
        engine.dispose()
        assert c.get("/audit", follow_redirects=False).status_code == 303
    (row,) = _session_rows(settings)
    assert row["end_reason"] == "expired"


def test_holders_are_shown_by_me_and_in_the_audit_log(tmp_path) -> None:
    settings = _settings(tmp_path)
    auditor = _token(settings, holder="Chen Jing")
    caseworker = _token(settings, "caseworker", "330226001", holder="Zhou Min (Xidian)")
    with client(bare_app(settings)) as c:
        me = c.get("/api/v1/me", headers=bearer(caseworker)).json()
        assert me["holder"] == "Zhou Min (Xidian)" and me["role"] == "caseworker"
        c.get("/api/v1/audit", headers=bearer(caseworker))  # a refusal, audited
        c.get("/api/v1/audit", headers=bearer(auditor))
        items = c.get("/api/v1/audit", headers=bearer(auditor)).json()["items"]
        holders = {(e["actor"], e["holder"]) for e in items}
        assert (caseworker.split("_")[1], "Zhou Min (Xidian)") in holders
        assert (auditor.split("_")[1], "Chen Jing") in holders
        _sign_in(c, auditor)
        page = c.get("/audit/log?lang=en")
        assert page.status_code == 200 and "Holder" in page.text
        assert "Zhou Min (Xidian)" in page.text and "Chen Jing" in page.text


@pytest.mark.parametrize(
    "bad", ["", "   ", "x" * 81, "Li\x00Wei", "Li\u200bWei", "Wang 330226", "Wang ３３０２２６"]
)
def test_a_holder_is_a_name(bad) -> None:
    with pytest.raises(ConfigError):
        auth.check_holder(bad)
    assert auth.check_holder("  Wang   Fang ") == "Wang Fang"


def test_the_cli_requires_a_holder(tmp_path) -> None:
    from typer.testing import CliRunner

    from outreach.cli import app

    ws = ["--workspace", str(tmp_path)]
    r = CliRunner().invoke(app, ["token", "create", "--role", "auditor", *ws])
    assert r.exit_code != 0 and "--holder" in r.output
    r = CliRunner().invoke(app, ["token", "create", "--role", "auditor", "--holder", "Wang 330226",
                                 *ws])  # fmt: skip
    assert r.exit_code != 0 and isinstance(r.exception, ConfigError)


def test_service_settings_are_checked_in_one_line(tmp_path) -> None:
    with pytest.raises(ConfigError, match="trusted_proxies"):
        _settings(tmp_path, trusted_proxies=["proxy.example"])
    with pytest.raises(ConfigError, match="session_idle_minutes"):
        _settings(tmp_path, session_idle_minutes=0)
    (tmp_path / "outreach.toml").write_text(
        '[service]\ntrusted_proxies = ["10.0.0.5"]\nsession_idle_minutes = 15\n'
    )
    s = load_settings(tmp_path, environ={})
    assert s.service.trusted_proxies == ("10.0.0.5",) and s.service.session_idle_minutes == 15
