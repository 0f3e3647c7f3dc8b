"""The web pages on the scored fixture county: the page authorization matrix, sessions and
sign-in, security headers and CSRF (the lists, exports, forms, auditing and the scan for ID
numbers are in ``test_pages_content.py``).

The page matrix is a literal table (every page route x role x own / foreign / nonexistent
subject, plus no session, an expired token's session, a tampered cookie and a bearer token
instead of a session), not derived from the application's policy; the table is
``support.pages.PAGES``. A foreign household or area must answer byte for byte what a
nonexistent one answers.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from support.pages import (
    FORMS,
    PAGES,
    ROLES,
    TARGETS,
    client,
    count_rows,
    csrf_of,
    service_engine,
    sign_in,
    subject,
)

from serving.runtime import auth
from serving.store import tables

pytestmark = pytest.mark.integration

BAD_SESSIONS = ("missing", "expired", "tampered", "bearer")
PUBLIC = {("GET", "/signin"), ("POST", "/signin"), ("POST", "/signout")}
PERSONAL = ("/lists/", "/households/", "/audit/households/", "/audit/log", "/audit/linkage")


def expected(route, role: str, target: str) -> int:
    entry = PAGES[route][role]
    return entry if isinstance(entry, int) else entry[TARGETS.index(target)]


def send(app, c: TestClient, route, url: str, role: str, csrf_token: str, tokens):
    """One request of the matrix; POST forms carry a valid CSRF token (and sign-in a token)."""
    method, path = route
    if method == "GET":
        return c.get(url)
    if path == "/signin":
        fresh = client(app)
        pre = csrf_of(fresh.get("/signin").text)
        return fresh.post("/signin", data={"token": tokens[role], "csrf_token": pre})
    if path == "/signout":  # a session of its own: the shared one must live on
        other = sign_in(app, tokens[role])
        return other.post("/signout", data={"csrf_token": csrf_of(other.get("/lists").text)})
    return c.post(url, data={**FORMS[path], "csrf_token": csrf_token})


# ---------------------------------------------------------------------------------- matrix
def test_every_page_route_is_in_the_page_table(app) -> None:
    from test_service_authz import EXPECTED, app_routes

    pages = app_routes(app, pages=True)
    assert pages == set(PAGES), sorted(pages ^ set(PAGES))
    assert not pages & set(EXPECTED)  # each route belongs to exactly one matrix
    documented = set(app.openapi()["paths"])
    assert not documented & {p for _, p in PAGES}  # pages are not part of the API document


def test_page_authorization_matrix_has_zero_leaks(app, browsers, csrf, tokens, s) -> None:
    leaks, mismatches, unaudited, checked = [], [], [], 0
    engine = service_engine(app.state.service.settings)
    for route in sorted(PAGES):
        method, path = route
        for role in ROLES:
            seen = {}
            for target in TARGETS:
                url = subject(path, role, target, s)
                r = send(app, browsers[role], route, url, role, csrf[role], tokens)
                want = expected(route, role, target)
                checked += 1
                seen[target] = r
                if r.status_code != want:
                    mismatches.append((method, path, role, target, want, r.status_code))
                if 200 <= r.status_code < 400 and not 200 <= want < 400:
                    leaks.append((method, path, role, target, r.status_code))
                if r.status_code == 200 and method == "GET" and path.startswith(PERSONAL):
                    with engine.connect() as conn:
                        rows = conn.execute(
                            sa.select(sa.func.count())
                            .select_from(tables.audit_log)
                            .where(tables.audit_log.c.request_id == r.headers["x-request-id"])
                        ).scalar_one()
                    if rows == 0:
                        unaudited.append((path, role, target))
            if expected(route, role, "foreign") == 404:
                a, b = seen["foreign"], seen["none"]
                if a.content != b.content or a.headers.get("content-type") != b.headers.get(
                    "content-type"
                ):
                    leaks.append((method, path, role, "foreign differs from nonexistent"))
    engine.dispose()
    assert leaks == []
    assert mismatches == []
    assert unaudited == []
    assert checked == len(PAGES) * len(ROLES) * len(TARGETS)


def _bad_client(app, kind: str, tokens, browsers) -> TestClient:
    c = client(app)
    if kind == "expired":
        token_id = tokens["expired"].split("_")[1]
        value, _ = app.state.pages.sessions().issue(token_id)
        c.cookies.set("outreach_session", value)
    elif kind == "tampered":
        value = browsers["auditor"].cookies.get("outreach_session")
        payload, _, signature = value.rpartition(".")
        swapped = "A" if payload[3] != "A" else "B"
        c.cookies.set("outreach_session", f"{payload[:3]}{swapped}{payload[4:]}.{signature}")
    elif kind == "bearer":
        c.headers["Authorization"] = f"Bearer {tokens['auditor']}"
    return c


@pytest.mark.parametrize("kind", BAD_SESSIONS)
def test_no_valid_session_means_the_sign_in_page(app, tokens, browsers, s, kind) -> None:
    written = (count_rows(app.state.service.settings, tables.visit_outcomes),
               count_rows(app.state.service.settings, tables.corrections))  # fmt: skip
    c = _bad_client(app, kind, tokens, browsers)
    for route in sorted(set(PAGES) - PUBLIC):
        method, path = route
        url = subject(path, "auditor", "own", s)
        r = c.get(url) if method == "GET" else c.post(url, data=FORMS[path])
        assert (r.status_code, r.headers.get("location")) == (303, "/signin"), (kind, route)
    assert c.get("/signin").status_code == 200
    assert written == (count_rows(app.state.service.settings, tables.visit_outcomes),
                       count_rows(app.state.service.settings, tables.corrections))  # fmt: skip


# ---------------------------------------------------------------------------------- sessions
def test_sign_in_starts_a_strict_http_only_session_and_goes_home(app, tokens) -> None:
    homes = {"caseworker": "/lists/330226001", "supervisor": "/lists", "auditor": "/audit",
             "data_scientist": "/audit/model"}  # fmt: skip
    for role, home in homes.items():
        c = client(app)
        form = c.get("/signin")
        assert form.status_code == 200 and 'id="signin-form"' in form.text
        assert 'type="password"' in form.text and 'id="token"' in form.text
        r = c.post("/signin", data={"token": tokens[role], "csrf_token": csrf_of(form.text)})
        assert r.status_code == 303 and r.headers["location"] == home
        cookie = next(v for v in r.headers.get_list("set-cookie") if "outreach_session=" in v)
        flags = {f.strip().lower() for f in cookie.split(";")[1:]}
        assert {"httponly", "path=/", "samesite=strict"} <= flags and "secure" not in flags
        assert tokens[role] not in cookie and tokens[role].split("_", 2)[2] not in cookie
        assert c.get("/", follow_redirects=False).headers["location"] == home


def test_session_cookie_is_secure_over_https(app, tokens) -> None:
    c = client(app, base_url="https://testserver")
    form = c.get("/signin")
    r = c.post("/signin", data={"token": tokens["auditor"], "csrf_token": csrf_of(form.text)})
    cookie = next(v for v in r.headers.get_list("set-cookie") if "outreach_session=" in v)
    assert "secure" in cookie.lower()


def test_bad_expired_revoked_and_tampered_tokens_are_refused_on_the_form(app, tokens) -> None:
    engine = service_engine(app.state.service.settings)
    with engine.begin() as conn:
        revoked, revoked_id = auth.create_token(conn, "caseworker", "330226001")
        auth.revoke_token(conn, revoked_id)
    engine.dispose()
    for token in ("otk_nothing_" + "x" * 20, "", tokens["expired"], tokens["tampered"], revoked):
        c = client(app)
        form = c.get("/signin")
        r = c.post("/signin", data={"token": token, "csrf_token": csrf_of(form.text)})
        assert r.status_code == 401
        assert 'data-testid="signin-error"' in r.text and 'id="signin-form"' in r.text
        assert "outreach_session=" not in " ".join(r.headers.get_list("set-cookie"))


def test_sign_in_needs_its_csrf_token(app, tokens) -> None:
    c = client(app)
    c.get("/signin")
    r = c.post("/signin", data={"token": tokens["auditor"], "csrf_token": "nope"})
    assert r.status_code == 403 and 'data-testid="csrf-refused"' in r.text
    r = client(app).post("/signin", data={"token": tokens["auditor"]})  # no sign-in cookie
    assert r.status_code == 403 and "outreach_session=" not in r.headers.get("set-cookie", "")


def test_a_session_dies_with_its_token_and_at_sign_out(app) -> None:
    engine = service_engine(app.state.service.settings)
    with engine.begin() as conn:
        token, token_id = auth.create_token(conn, "auditor")
    c = sign_in(app, token)
    assert c.get("/audit").status_code == 200
    with engine.begin() as conn:
        auth.revoke_token(conn, token_id)
    engine.dispose()
    r = c.get("/audit")
    assert r.status_code == 303 and r.headers["location"] == "/signin"

    with service_engine(app.state.service.settings).begin() as conn:
        token, _ = auth.create_token(conn, "auditor")
    c = sign_in(app, token)
    old = c.cookies.get("outreach_session")
    page = c.get("/audit")
    refused = c.post("/signout", data={"csrf_token": "wrong"})
    assert refused.status_code == 403 and c.get("/audit").status_code == 200
    r = c.post("/signout", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 303 and r.headers["location"] == "/signin"
    assert 'outreach_session=""' in r.headers["set-cookie"]
    replay = client(app)
    replay.cookies.set("outreach_session", old)  # a copy of the cookie taken before sign-out
    assert replay.get("/audit").status_code == 303


# ---------------------------------------------------------------------------------- headers
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)


def test_pages_carry_the_security_headers_and_no_inline_code(app, browsers, s) -> None:
    pages = [
        ("caseworker", "/lists/330226001"),
        ("caseworker", f"/households/{s.own_household}"),
        ("caseworker", "/lists/330226001/print"),
        ("auditor", "/audit/model"),
        ("auditor", "/audit/log"),
        ("caseworker", "/audit"),
        ("caseworker", "/lists/1"),
    ]
    for role, url in [(None, "/signin"), *pages]:
        r = (browsers[role] if role else client(app)).get(url)
        h = r.headers
        assert h["content-security-policy"] == CSP, url
        assert h["x-content-type-options"] == "nosniff" and h["referrer-policy"] == "no-referrer"
        assert h["cache-control"] == "no-store" and h["x-request-id"], url
        assert "<script>" not in r.text and not re.search(r"<script(?![^>]*\bsrc=)", r.text), url
        assert not re.search(r"\sstyle=", r.text) and "<style" not in r.text, url
        assert 'lang="zh-CN"' in r.text and "<main" in r.text, url
    for asset in re.findall(r'(?:href|src)="(/static/[^"]+)"', client(app).get("/signin").text):
        r = client(app).get(asset)
        assert r.status_code == 200 and r.headers["x-content-type-options"] == "nosniff"
    api = browsers["auditor"].get("/healthz")
    assert api.status_code == 200


def test_language_switch_is_remembered_in_a_readable_cookie(app, browsers, s) -> None:
    c = browsers["caseworker"]
    r = c.get("/lists/330226001?lang=en")
    assert '<html lang="en">' in r.text and "Visit list" in r.text
    cookie = next(v for v in r.headers.get_list("set-cookie") if v.startswith("lang="))
    assert cookie.startswith("lang=en") and "httponly" not in cookie.lower()
    page = c.get(f"/households/{s.own_household}")
    assert '<html lang="en">' in page.text and "log-odds" in page.text
    back = c.get("/lists/330226001?lang=zh")
    assert '<html lang="zh-CN">' in back.text and "走访名单" in back.text


# ---------------------------------------------------------------------------------- csrf
@pytest.mark.parametrize("given", [None, "", "wrong", "x" * 43])
def test_a_post_without_its_csrf_token_is_refused_and_writes_nothing(app, browsers, s, given):
    c = browsers["caseworker"]
    url = f"/households/{s.own_household}"
    written = (count_rows(app.state.service.settings, tables.visit_outcomes),
               count_rows(app.state.service.settings, tables.corrections))  # fmt: skip
    other = csrf_of(browsers["supervisor"].get(url).text)  # another session's valid token
    for path, base in FORMS.items():
        for token in (given, other):
            data = dict(base) if token is None else {**base, "csrf_token": token}
            r = c.post(path.replace("{ref}", s.own_household), data=data)
            assert r.status_code == 403 and 'data-testid="csrf-refused"' in r.text, path
    assert written == (count_rows(app.state.service.settings, tables.visit_outcomes),
                       count_rows(app.state.service.settings, tables.corrections))  # fmt: skip
