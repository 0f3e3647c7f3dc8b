"""The web pages on the scored fixture county: sessions, CSRF, headers, the page authorization
matrix, the forms, exports, auditing, and a scan for ID numbers and clear names.

The page matrix is a literal table (every page route x role x own / foreign / nonexistent
subject, plus no session, an expired token's session, a tampered cookie and a bearer token
instead of a session), not derived from the application's policy. A foreign household or area
must answer byte for byte what a nonexistent one answers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import openpyxl
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.pages import exports
from serving.runtime import auth
from serving.runtime.service import ServiceOptions
from serving.store import db, tables

pytestmark = pytest.mark.integration

ROLES = ("caseworker", "supervisor", "auditor", "data_scientist")
TARGETS = ("own", "foreign", "none")
BAD_SESSIONS = ("missing", "expired", "tampered", "bearer")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ID_NUMBER = re.compile(r"\d{17}[\dXx]")
KEYED_HASH = re.compile(r"\b[HR][0-9a-f]{20,24}\b")
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")

# role -> (own, foreign, nonexistent); a plain int means the same status for all three
AREA_READ = {
    "caseworker": (200, 404, 404), "supervisor": (200, 404, 404),
    "auditor": (200, 200, 404), "data_scientist": (200, 200, 404),
}  # fmt: skip
AREA_WRITE = {
    "caseworker": (303, 404, 404), "supervisor": (303, 404, 404),
    "auditor": 403, "data_scientist": 403,
}  # fmt: skip
ALL = {role: 200 for role in ROLES}
AUDITOR_ONLY = {"caseworker": 403, "supervisor": 403, "auditor": 200, "data_scientist": 403}

PAGES: dict[tuple[str, str], dict[str, int | tuple[int, int, int]]] = {
    ("GET", "/signin"): ALL,
    ("POST", "/signin"): {role: 303 for role in ROLES},
    ("POST", "/signout"): {role: 303 for role in ROLES},
    ("GET", "/"): {role: 303 for role in ROLES},
    ("GET", "/lists"): ALL,
    ("GET", "/lists/{code}"): AREA_READ,
    ("GET", "/lists/{code}/print"): AREA_READ,
    ("GET", "/lists/{code}/export.csv"): AREA_READ,
    ("GET", "/lists/{code}/export.xlsx"): AREA_READ,
    ("GET", "/households/{ref}"): AREA_READ,
    ("POST", "/households/{ref}/outcome"): AREA_WRITE,
    ("POST", "/households/{ref}/corrections"): AREA_WRITE,
    ("GET", "/audit"): AUDITOR_ONLY,
    ("GET", "/audit/model"): {
        "caseworker": 403,
        "supervisor": 403,
        "auditor": 200,
        "data_scientist": 200,
    },  # fmt: skip
    ("GET", "/audit/log"): AUDITOR_ONLY,
    ("GET", "/audit/households"): {
        "caseworker": 403,
        "supervisor": 403,
        "auditor": 303,
        "data_scientist": 403,
    },  # fmt: skip
    ("GET", "/audit/households/{ref}"): {
        "caseworker": 403,
        "supervisor": 403,
        "auditor": (200, 200, 404),
        "data_scientist": 403,
    },  # fmt: skip
}
PUBLIC = {("GET", "/signin"), ("POST", "/signin"), ("POST", "/signout")}
PERSONAL = ("/lists/", "/households/", "/audit/households/", "/audit/log")
FORMS = {
    "/households/{ref}/outcome": {
        "visit_date": "2025-01-10", "outcome": "in_need", "programs_started": ["dibao"],
        "note": "family confirms the illness",
    },
    "/households/{ref}/corrections": {
        "item": "vehicle", "reference": "vehicle_registry", "correction": "the car is not theirs",
        "reason": "sold in 2023, papers seen",
    },
}  # fmt: skip


# ---------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def app(service_settings):
    # tokens re-checked on every request (no 2 s cache), so revocation shows at once
    application = create_app(service_settings, ServiceOptions(token_cache_seconds=0))
    with TestClient(application):
        yield application


@pytest.fixture(scope="module")
def s(service_settings):
    from support.service_seed import subjects

    return subjects(service_settings)


def _engine(settings):
    return db.make_engine(settings.service_db_url)


def _count(settings, table) -> int:
    engine = _engine(settings)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    finally:
        engine.dispose()


def client(app, **kw) -> TestClient:
    """A browser of its own (cookie jar), sharing the app; redirects are not followed."""
    return TestClient(app, follow_redirects=False, **kw)


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no csrf_token field on the page"
    return found.group(1)


def sign_in(app, token: str, **kw) -> TestClient:
    c = client(app, **kw)
    form = c.get("/signin")
    r = c.post("/signin", data={"token": token, "csrf_token": csrf_of(form.text)})
    assert r.status_code == 303, r.text[:300]
    return c


@pytest.fixture(scope="module")
def browsers(app, tokens) -> dict[str, TestClient]:
    return {role: sign_in(app, tokens[role]) for role in ROLES}


@pytest.fixture(scope="module")
def csrf(browsers) -> dict[str, str]:
    return {role: csrf_of(c.get("/lists").text) for role, c in browsers.items()}


def subject(path: str, role: str, target: str, s) -> str:
    """The URL of a page for the role's own, a foreign or a nonexistent household or area (the
    same subjects as the API's matrix)."""
    from test_service_authz import subject_path

    if path == "/audit/households":
        return f"{path}?ref={s.own_household}"
    api_shaped = path.replace("{ref}", "{household_ref}").replace("{code}", "{jurisdiction_code}")
    return subject_path(api_shaped, role, target, s)


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
    engine = _engine(app.state.service.settings)
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
    written = (_count(app.state.service.settings, tables.visit_outcomes),
               _count(app.state.service.settings, tables.corrections))  # fmt: skip
    c = _bad_client(app, kind, tokens, browsers)
    for route in sorted(set(PAGES) - PUBLIC):
        method, path = route
        url = subject(path, "auditor", "own", s)
        r = c.get(url) if method == "GET" else c.post(url, data=FORMS[path])
        assert (r.status_code, r.headers.get("location")) == (303, "/signin"), (kind, route)
    assert c.get("/signin").status_code == 200
    assert written == (_count(app.state.service.settings, tables.visit_outcomes),
                       _count(app.state.service.settings, tables.corrections))  # fmt: skip


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
    engine = _engine(app.state.service.settings)
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
    engine = _engine(app.state.service.settings)
    with engine.begin() as conn:
        token, token_id = auth.create_token(conn, "auditor")
    c = sign_in(app, token)
    assert c.get("/audit").status_code == 200
    with engine.begin() as conn:
        auth.revoke_token(conn, token_id)
    engine.dispose()
    r = c.get("/audit")
    assert r.status_code == 303 and r.headers["location"] == "/signin"

    with _engine(app.state.service.settings).begin() as conn:
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


# ---------------------------------------------------------------------------------- lists
def _rows(html: str) -> list[tuple[str, str]]:
    return re.findall(r'data-testid="list-row" data-ref="(H[0-9a-f]{24})" data-village="(\d{12})"',
                      html)  # fmt: skip


def test_visit_list_shows_the_area_its_purpose_and_filters_by_village(app, browsers, s) -> None:
    c = browsers["caseworker"]
    page = c.get("/lists/330226001")
    rows = _rows(page.text)
    assert rows and all(v.startswith("330226001") for _, v in rows)
    assert 'data-testid="purpose"' in page.text and "绝不作为减少、暂停或追回" in page.text
    assert page.text.count('data-testid="household-link"') == len(rows)
    assert re.search(r"· 0\.\d\d", page.text)
    for testid in ("export-csv", "export-xlsx", "print"):
        assert f'data-testid="{testid}"' in page.text
    village = rows[-1][1]
    one = c.get(f"/lists/330226001?village={village}")
    assert one.status_code == 200 and {v for _, v in _rows(one.text)} == {village}
    assert f'href="/lists/330226001/export.csv?village={village}"' in one.text
    foreign = c.get("/lists/330226001?village=330226002001")
    missing = c.get("/lists/330226001?village=330226001999")
    garbage = c.get("/lists/330226001?village=%3Cscript%3E")
    assert foreign.status_code == missing.status_code == garbage.status_code == 404
    assert foreign.content == missing.content == garbage.content
    printed = c.get("/lists/330226001/print")
    assert printed.text.count('data-testid="print-sheet"') == len(rows)
    ds = browsers["data_scientist"].get("/lists/330226001")
    assert "王*" not in ds.text and _rows(ds.text) == rows
    sup = browsers["supervisor"].get("/lists")
    assert sup.text.count('data-testid="jurisdiction-link"') >= 2


def test_exports_have_the_columns_a_bom_and_codes_as_text(app, browsers) -> None:
    c = browsers["caseworker"]
    rows = _rows(c.get("/lists/330226001").text)
    r = c.get("/lists/330226001/export.csv")
    assert r.headers["content-disposition"] == (
        'attachment; filename="visit-list-330226001-2024-12-31.csv"'
    )
    assert r.content.startswith(b"\xef\xbb\xbf") and r.headers["cache-control"] == "no-store"
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"), newline="")))
    assert table[0] == ["序号", "家庭编号", "户主（脱敏）", "村编码", "风险等级", "概率",
                        "主要原因", "可能符合但未享受的救助", "走访时核实", "探索", "模型版本",
                        "用途"]  # fmt: skip
    assert [(row[1], row[3]) for row in table[1:]] == rows
    assert all(not cell.startswith(DANGEROUS) for row in table for cell in row)
    en = c.get("/lists/330226001/export.csv?lang=en").content.decode("utf-8-sig")
    assert next(csv.reader(io.StringIO(en))) == list(exports.COLUMNS)

    village = rows[0][1]
    x = c.get(f"/lists/330226001/export.xlsx?village={village}")
    assert x.headers["content-type"] == exports.CONTENT_TYPES["xlsx"]
    book = openpyxl.load_workbook(io.BytesIO(x.content))
    cells = list(book.worksheets[0].iter_rows())
    assert len(cells[0]) == len(exports.COLUMNS)
    assert [(row[1].value, row[3].value) for row in cells[1:]] == [
        r for r in rows if r[1] == village
    ]
    for row in cells[1:]:
        for cell in (row[1], row[3], row[10]):
            assert cell.data_type == "s" and cell.number_format == "@", cell.coordinate
        assert all(not str(cell.value or "").startswith(DANGEROUS) for cell in row)


# ---------------------------------------------------------------------------------- forms
def _visit_rows(html: str) -> int:
    return html.count('data-testid="visit-row"')


def test_an_outcome_posted_is_stored_and_shown_with_a_flash(app, browsers, s) -> None:
    c = browsers["caseworker"]
    url = f"/households/{s.own_household}"
    page = c.get(url)
    before = _visit_rows(page.text)
    assert 'id="outcome-form"' in page.text and 'id="correction-form"' in page.text
    form = {"csrf_token": csrf_of(page.text), "outcome": "in_need", "visit_date": "2025-02-03",
            "programs_started": ["dibao", "medical_assistance"], "note": "页面测试"}  # fmt: skip
    r = c.post(f"{url}/outcome", data=form)
    assert r.status_code == 303 and r.headers["location"] == url
    after = c.get(url)
    assert 'data-testid="flash"' in after.text and _visit_rows(after.text) == before + 1
    assert "2025-02-03" in after.text and "页面测试" in after.text
    assert 'data-testid="flash"' not in c.get(url).text  # shown once
    engine = _engine(app.state.service.settings)
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(tables.visit_outcomes)
            .where(tables.visit_outcomes.c.household_id == s.own_household)
            .order_by(tables.visit_outcomes.c.id.desc())
        ).mappings().first()  # fmt: skip
        audit = conn.execute(
            sa.select(tables.audit_log.c.action, tables.audit_log.c.resource)
            .where(tables.audit_log.c.request_id == r.headers["x-request-id"])
        ).all()  # fmt: skip
    engine.dispose()
    assert row["outcome"] == "in_need" and row["programs_started"] == [
        "dibao",
        "medical_assistance",
    ]
    assert row["visit_date"] == dt.date(2025, 2, 3) and row["note"] == "页面测试"
    assert [tuple(a) for a in audit] == [("write", "visit_outcome")]
    auditor_view = browsers["auditor"].get(url).text
    assert "页面测试" in auditor_view
    assert "页面测试" not in browsers["data_scientist"].get(url).text  # no notes


def test_a_correction_posted_is_stored_and_listed(app, browsers, s) -> None:
    c = browsers["supervisor"]
    url = f"/households/{s.own_household}"
    token = csrf_of(c.get(url).text)
    before = _count(app.state.service.settings, tables.corrections)
    form = {"csrf_token": token, "item": "车辆", "reference": "", "correction": "车已卖出",
            "reason": "看到过户凭证"}  # fmt: skip
    r = c.post(f"{url}/corrections", data=form)
    assert r.status_code == 303 and r.headers["location"] == url
    assert _count(app.state.service.settings, tables.corrections) == before + 1
    page = c.get(url).text
    assert "车已卖出" in page and 'data-testid="correction-row"' in page
    assert "车已卖出" not in browsers["data_scientist"].get(url).text


@pytest.mark.parametrize("given", [None, "", "wrong", "x" * 43])
def test_a_post_without_its_csrf_token_is_refused_and_writes_nothing(app, browsers, s, given):
    c = browsers["caseworker"]
    url = f"/households/{s.own_household}"
    written = (_count(app.state.service.settings, tables.visit_outcomes),
               _count(app.state.service.settings, tables.corrections))  # fmt: skip
    other = csrf_of(browsers["supervisor"].get(url).text)  # another session's valid token
    for path, base in FORMS.items():
        for token in (given, other):
            data = dict(base) if token is None else {**base, "csrf_token": token}
            r = c.post(path.replace("{ref}", s.own_household), data=data)
            assert r.status_code == 403 and 'data-testid="csrf-refused"' in r.text, path
    assert written == (_count(app.state.service.settings, tables.visit_outcomes),
                       _count(app.state.service.settings, tables.corrections))  # fmt: skip


ID_LIKE = "330226" + "19900101" + "1234"  # an ID-number shape, built so no scan trips here
BAD_OUTCOMES = [
    {"outcome": "in_need", "visit_date": "not-a-date"},
    {"outcome": "in_need", "visit_date": ""},
    {"outcome": "moved_away", "visit_date": "2025-01-06"},
    {"outcome": "visited", "visit_date": "2025-01-06", "note": f"身份证 {ID_LIKE}"},
    {"outcome": "visited", "visit_date": (dt.date.today() + dt.timedelta(days=3)).isoformat()},
    {"outcome": "visited", "visit_date": "2025-01-06", "programs_started": ["dibao"]},
    {"outcome": "in_need", "visit_date": "2025-01-06", "programs_started": ["no_such"]},
    {"outcome": "in_need", "visit_date": "2025-01-06", "programs_started": ["BAD!"]},
    {"outcome": "visited", "visit_date": "2025-01-06", "note": "长" * 1001},
]
BAD_CORRECTIONS = [
    {"item": "", "correction": "x", "reason": "y"},
    {"item": "vehicle", "correction": "", "reason": "y"},
    {"item": "vehicle", "correction": f"号码 {ID_LIKE}", "reason": "y"},
    {"item": "v" * 201, "correction": "x", "reason": "y"},
]


def test_invalid_forms_answer_422_with_one_line_and_write_nothing(app, browsers, s) -> None:
    c = browsers["caseworker"]
    url = f"/households/{s.own_household}"
    token = csrf_of(c.get(url).text)
    settings = app.state.service.settings
    written = (_count(settings, tables.visit_outcomes), _count(settings, tables.corrections))
    cases = [("outcome", f) for f in BAD_OUTCOMES] + [("corrections", f) for f in BAD_CORRECTIONS]
    for path, form in cases:
        r = c.post(f"{url}/{path}", data={**form, "csrf_token": token})
        assert r.status_code == 422, (path, form)
        errors = re.findall(r'data-testid="form-error">([^<]+)<', r.text)
        assert len(errors) == 1 and "\n" not in errors[0], (path, errors)
        assert ID_LIKE not in errors[0]
        assert 'id="outcome-form"' in r.text and 'id="correction-form"' in r.text
    # bodies no form parser reads (too big, a file): 422; one without a readable token: 403
    multipart = "multipart/form-data; boundary=zz"
    upload = (b'--zz\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
              + token.encode() + b'\r\n--zz\r\nContent-Disposition: form-data; name="f"; '
              b'filename="a.txt"\r\n\r\nx\r\n--zz--\r\n')  # fmt: skip
    raw = [
        ("application/x-www-form-urlencoded", b"csrf_token=" + b"a" * 70_000, 422, "form-error"),
        (multipart, upload, 422, "form-error"),
        (multipart, b"--zz\r\nbroken", 403, "csrf-refused"),
        ("text/plain", b"csrf_token=" + token.encode(), 403, "csrf-refused"),
    ]
    for content_type, body, status, testid in raw:
        r = c.post(f"{url}/outcome", content=body, headers={"content-type": content_type})
        assert r.status_code == status and f'data-testid="{testid}"' in r.text, content_type
    json_body = c.post(f"{url}/outcome", json={"outcome": "visited", "csrf_token": token})
    assert json_body.status_code == 403  # not a form: no CSRF token read, nothing done
    assert written == (
        _count(settings, tables.visit_outcomes),
        _count(settings, tables.corrections),
    )


# ---------------------------------------------------------------------------------- reads
def _audit_rows(settings, rid: str) -> list[dict]:
    engine = _engine(settings)
    try:
        with engine.connect() as conn:
            q = sa.select(tables.audit_log).where(tables.audit_log.c.request_id == rid)
            return [dict(r) for r in conn.execute(q).mappings()]
    finally:
        engine.dispose()


def test_page_reads_are_audited_like_the_api(app, browsers, s) -> None:
    from serving.api.common import READ_PURPOSE

    settings = app.state.service.settings
    cases = [
        ("caseworker", "/lists/330226001", {("read", "list")}, "page"),
        ("caseworker", "/lists/330226001/export.xlsx", {("read", "list")}, "export.xlsx"),
        ("supervisor", "/lists/330226001/print", {("read", "list")}, "print"),
        ("caseworker", f"/households/{s.own_household}",
         {("read", "household"), ("read", "corrections")}, None),
        ("data_scientist", f"/households/{s.own_household}", {("read", "household")}, None),
        ("auditor", f"/audit/households/{s.own_household}", {("read", "household_history")},
         None),
        ("auditor", "/audit/log", {("read", "audit_log")}, None),
    ]  # fmt: skip
    for role, url, actions, channel in cases:
        r = browsers[role].get(url)
        assert r.status_code == 200, url
        rows = _audit_rows(settings, r.headers["x-request-id"])
        assert {(a["action"], a["resource"]) for a in rows} == actions, url
        assert all(a["role"] == role and a["purpose"] == READ_PURPOSE[role] for a in rows)
        if channel:
            assert rows[0]["detail"]["channel"] == channel and rows[0]["jurisdiction_code"]
    refused = browsers["caseworker"].get(f"/households/{s.neighbour_household}")
    assert (
        refused.status_code == 404 and _audit_rows(settings, refused.headers["x-request-id"]) == []
    )


def test_household_and_model_pages_draw_their_charts(app, browsers, s) -> None:
    page = browsers["caseworker"].get(f"/households/{s.own_household}").text
    svg = re.search(r'<svg id="shap-waterfall".*?</svg>', page, re.S).group(0)
    assert "<title" in svg and "对数几率" in svg and "<rect" in svg
    assert 'data-testid="score"' in page and re.search(r"· 0\.\d+ · 模型版本 1", page)
    for section in ('id="eligibility"', 'id="history"', 'id="visits"'):
        assert section in page
    model = browsers["auditor"].get("/audit/model?lang=en")
    assert model.status_code == 200
    for chart in ("importance-chart", "calibration-chart", "recall-chart"):
        found = re.search(rf'<svg id="{chart}".*?</svg>', model.text, re.S)
        assert found and "<title" in found.group(0), chart
    assert "log-odds" in model.text and "perfect calibration" in model.text
    assert re.search(r'<table id="fairness".*?<tbody>\s*<tr>', model.text, re.S)
    assert 'id="drift"' in model.text and "PSI" in model.text
    assert "Model card" in model.text and "<h3>" in model.text  # the card, headings moved down
    history = browsers["auditor"].get(f"/audit/households/{s.own_household}").text
    assert 'id="shap-waterfall-1"' in history and s.own_household in history


def test_audit_log_page_filters_and_checks_them(app, browsers, s) -> None:
    c = browsers["auditor"]
    browsers["caseworker"].get(f"/households/{s.own_household}")
    r = c.get(f"/audit/log?household_ref={s.own_household}&role=caseworker&action=read")
    assert r.status_code == 200 and 'id="audit-filter"' in r.text
    body = r.text.split("<tbody>")[1]
    assert body.count('data-testid="audit-row"') >= 1 and "auditor" not in body.split("</tbody>")[0]
    for bad in ("from=2024-13-40", "role=king", "household_ref=x", "before_id=-1", "actor=%3Cb%3E"):
        r = c.get(f"/audit/log?{bad}")
        assert r.status_code == 422 and 'data-testid="form-error"' in r.text, bad
    day = dt.date.today().isoformat()
    assert c.get(f"/audit/log?from={day}&to={day}").status_code == 200
    lookup = c.get(f"/audit/households?ref={s.own_household}")
    assert lookup.headers["location"] == f"/audit/households/{s.own_household}"


def test_no_id_number_or_clear_name_in_any_page_or_export(
    app, browsers, csrf, tokens, s, fixture_world
) -> None:
    import pyarrow.parquet as pq

    persons = pq.read_table(fixture_world / "truth" / "persons.parquet").to_pandas()
    names = {n for n in persons["name"].dropna().astype(str) if len(n) >= 2}
    texts = []
    for route in sorted(PAGES):
        if route[0] != "GET":
            continue
        for role in ROLES:
            for target in TARGETS:
                for lang in ("zh", "en"):
                    url = subject(route[1], role, target, s)
                    sep = "&" if "?" in url else "?"
                    r = browsers[role].get(f"{url}{sep}lang={lang}")
                    if url.endswith(".xlsx") and r.status_code == 200:
                        book = openpyxl.load_workbook(io.BytesIO(r.content))
                        texts += [str(c.value) for ws in book for row in ws.iter_rows()
                                  for c in row if c.value is not None]  # fmt: skip
                    else:
                        texts.append(r.content.decode("utf-8-sig"))
    blob = KEYED_HASH.sub("<key>", "\n".join(texts))
    found = ID_NUMBER.search(blob)
    assert found is None, blob[max(0, found.start() - 80) : found.end() + 20]
    assert [n for n in names if n in blob] == []


def test_an_unknown_path_is_a_page_for_a_browser_and_a_problem_for_the_api(app) -> None:
    c = client(app)
    html = {"accept": "text/html,application/xhtml+xml"}
    page = c.get("/no-such-page/330226001", headers=html)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert 'data-testid="not-found"' in page.text and "330226001" not in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for path, headers in (("/no-such-page", {"accept": "application/json"}),
                          ("/api/v1/no-such-route", html)):  # fmt: skip
        r = c.get(path, headers=headers)
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["detail"] == "no such resource"
