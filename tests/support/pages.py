"""Helpers of the web page tests (a helper module; tests/ is on sys.path).

The literal page table (every page route x role -> status for an own / foreign / nonexistent
subject), the forms the matrix posts, and plain helpers: a browser of its own, the CSRF token of
a page, signing in, the URL of a subject, and row counts in the service database. Used by
``tests/integration/test_pages_access.py`` and ``tests/integration/test_pages_content.py``; the
module-scoped fixtures (``app``, ``s``, ``browsers``, ``csrf``) are in
``tests/integration/conftest.py``.
"""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa
from fastapi.testclient import TestClient

from serving.store import db

ROLES = ("caseworker", "supervisor", "auditor", "data_scientist")
TARGETS = ("own", "foreign", "none")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

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
    ("GET", "/coverage"): ALL,
    ("GET", "/coverage/{code}"): AREA_READ,
    ("GET", "/coverage/{code}/export.csv"): AREA_READ,
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
    ("GET", "/twin"): {
        "caseworker": 403,
        "supervisor": 200,
        "auditor": 200,
        "data_scientist": 200,
    },  # fmt: skip
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
    # the foreign household is in the service database only, not in the warehouse
    ("GET", "/audit/linkage"): {
        "caseworker": 403,
        "supervisor": 403,
        "auditor": (200, 404, 404),
        "data_scientist": 403,
    },  # fmt: skip
    ("GET", "/audit/linkage/pair"): {
        "caseworker": 403,
        "supervisor": 403,
        "auditor": (200, 404, 404),
        "data_scientist": 403,
    },  # fmt: skip
}
NO_RECORDS = ("civil_registry:nobody-1", "civil_registry:nobody-2")
"""Well-formed record keys of no record."""
RECENT = (dt.date.today() - dt.timedelta(days=10)).isoformat()
"""A visit date a caseworker may record (within the last 366 days, never in the future)."""
FORMS = {
    "/households/{ref}/outcome": {
        "visit_date": RECENT, "outcome": "in_need", "programs_started": ["dibao"],
        "note": "family confirms the illness",
    },
    "/households/{ref}/corrections": {
        "item": "vehicle", "reference": "vehicle_registry", "correction": "the car is not theirs",
        "reason": "sold in 2023, papers seen",
    },
}  # fmt: skip


def service_engine(settings):
    return db.make_engine(settings.service_db_url)


def count_rows(settings, table) -> int:
    engine = service_engine(settings)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    finally:
        engine.dispose()


def audit_rows(settings, request_id: str) -> list[dict]:
    """The audit rows a request wrote (by its request id)."""
    from serving.store import tables

    engine = service_engine(settings)
    try:
        with engine.connect() as conn:
            q = sa.select(tables.audit_log).where(tables.audit_log.c.request_id == request_id)
            return [dict(r) for r in conn.execute(q).mappings()]
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


def subject(path: str, role: str, target: str, s) -> str:
    """The URL of a page for the role's own, a foreign or a nonexistent household or area (the
    same subjects as the API's matrix)."""
    from test_service_authz import subject_path

    if path == "/audit/households":
        return f"{path}?ref={s.own_household}"
    if path == "/audit/linkage":
        from support.service_seed import NOBODY

        foreign = s.neighbour_household if role == "caseworker" else s.other_county_household
        ref = {"own": s.own_household, "foreign": foreign, "none": NOBODY}[target]
        return f"{path}?ref={ref}"
    if path == "/audit/linkage/pair":
        a, b = s.own_records if target == "own" else NO_RECORDS
        return f"{path}?a={a}&b={b}"
    api_shaped = path.replace("{ref}", "{household_ref}").replace("{code}", "{jurisdiction_code}")
    return subject_path(api_shaped, role, target, s)
