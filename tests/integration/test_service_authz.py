"""The authorization matrix: every route x every role x own / foreign / nonexistent subject,
plus missing, expired and tampered tokens (the JSON API and operations routes; the web pages,
which authenticate by session cookie, have their own literal matrix in
``test_pages_access.py``).

The expected statuses are a literal table written here, not derived from the application's
policy. A leak is a 2xx where the table says no, or a foreign-household (or foreign-area)
answer that differs from the nonexistent one other than its request id. The test fails when
the app has a route the table does not list.
"""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from support.bare_service import UNLIMITED

from serving.app import create_app
from serving.runtime.service import ServiceOptions

pytestmark = pytest.mark.integration

ROLES = ("caseworker", "supervisor", "auditor", "data_scientist")
TARGETS = ("own", "foreign", "none")
BAD_TOKENS = ("missing", "expired", "tampered")

# role -> (own, foreign, nonexistent); a plain int means the same status for all three
AREA_READ = {
    "caseworker": (200, 404, 404), "supervisor": (200, 404, 404),
    "auditor": (200, 200, 404), "data_scientist": (200, 200, 404),
}  # fmt: skip
AREA_WRITE = {
    "caseworker": (201, 404, 404), "supervisor": (201, 404, 404),
    "auditor": 403, "data_scientist": 403,
}  # fmt: skip
PUBLIC = {role: 200 for role in ROLES}
LOOPBACK_ONLY = {role: 403 for role in ROLES}  # /metrics: the test client is not loopback

EXPECTED: dict[tuple[str, str], dict[str, int | tuple[int, int, int]]] = {
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/init.js"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): LOOPBACK_ONLY,
    ("GET", "/api/v1/me"): {role: 200 for role in ROLES},
    ("GET", "/api/v1/lists/{jurisdiction_code}"): AREA_READ,
    ("GET", "/api/v1/households/{household_ref}"): AREA_READ,
    ("GET", "/api/v1/households/{household_ref}/score"): AREA_READ,
    ("GET", "/api/v1/households/{household_ref}/history"): AREA_READ,
    ("POST", "/api/v1/households/{household_ref}/outcomes"): AREA_WRITE,
    ("POST", "/api/v1/households/{household_ref}/corrections"): AREA_WRITE,
    ("GET", "/api/v1/households/{household_ref}/corrections"): {
        "caseworker": (200, 404, 404),
        "supervisor": (200, 404, 404),
        "auditor": (200, 200, 404),
        "data_scientist": 403,
    },  # fmt: skip
    ("GET", "/api/v1/corrections"): {
        "caseworker": 403,
        "supervisor": 200,
        "auditor": 200,
        "data_scientist": 403,
    },
    ("GET", "/api/v1/audit"): {
        "caseworker": 403,
        "supervisor": 403,
        "auditor": 200,
        "data_scientist": 403,
    },
    ("GET", "/api/v1/model"): {role: 200 for role in ROLES},
    ("GET", "/api/v1/model/card"): {role: 200 for role in ROLES},
}
PUBLIC_ROUTES = {k for k, v in EXPECTED.items() if v is PUBLIC}

BODIES = {
    "/api/v1/households/{household_ref}/outcomes": {
        "visit_date": dt.date.today().isoformat(),
        "outcome": "in_need",
        "programs_started": ["dibao"],
        "note": "family confirms the illness",
    },  # fmt: skip
    "/api/v1/households/{household_ref}/corrections": {
        "item": "vehicle",
        "reference": "vehicle_registry",
        "correction": "the car is not theirs",
        "reason": "sold in 2023, papers seen",
    },  # fmt: skip
}


def app_routes(app, pages: bool = False) -> set[tuple[str, str]]:
    """Every (method, path) of the API and operations routes the app serves (HEAD left out: it
    mirrors GET); with ``pages=True``, those of the web pages instead (``serving.pages``: cookie
    sessions, not bearer tokens; their literal matrix is in ``test_pages_access.py``)."""
    out = set()
    for route in iter_route_contexts(app.routes):
        module = getattr(getattr(route, "endpoint", None), "__module__", "") or ""
        if module.startswith("serving.pages.") != pages:
            continue
        for method in route.methods or ():
            if method != "HEAD":
                out.add((method, route.path))
    return out


def subject_path(path: str, role: str, target: str, s) -> str:
    from support.service_seed import NO_TOWNSHIP, NOBODY, OTHER_TOWNSHIP, OWN_TOWNSHIP

    if "{household_ref}" in path:
        foreign = s.neighbour_household if role == "caseworker" else s.other_county_household
        ref = {"own": s.own_household, "foreign": foreign, "none": NOBODY}[target]
        return path.replace("{household_ref}", ref)
    if "{jurisdiction_code}" in path:
        foreign = "330226002" if role == "caseworker" else OTHER_TOWNSHIP
        code = {"own": OWN_TOWNSHIP, "foreign": foreign, "none": NO_TOWNSHIP}[target]
        return path.replace("{jurisdiction_code}", code)
    return path


def expected(route: tuple[str, str], role: str, target: str) -> int:
    entry = EXPECTED[route][role]
    return entry if isinstance(entry, int) else entry[TARGETS.index(target)]


def comparable(response) -> tuple[int, object]:
    try:
        body = copy.deepcopy(response.json())
    except ValueError:
        return response.status_code, response.content
    if isinstance(body, dict):
        body.pop("request_id", None)
    return response.status_code, body


@pytest.fixture(scope="module")
def client(service_settings):
    with TestClient(create_app(service_settings, ServiceOptions(**UNLIMITED))) as c:
        yield c


def test_every_route_is_in_the_table(client) -> None:
    missing = app_routes(client.app) - set(EXPECTED)
    assert not missing, f"routes missing from the authorization table: {sorted(missing)}"
    assert not set(EXPECTED) - app_routes(client.app), "the table lists routes the app lacks"


def test_authorization_matrix_has_zero_leaks(client, service_settings, tokens) -> None:
    from support.service_seed import subjects

    s = subjects(service_settings)
    leaks, mismatches, checked = [], [], 0
    for route in sorted(app_routes(client.app)):
        method, path = route
        for role in ROLES:
            seen = {}
            for target in TARGETS:
                url = subject_path(path, role, target, s)
                headers = {"Authorization": f"Bearer {tokens[role]}"}
                r = client.request(method, url, headers=headers, json=BODIES.get(path))
                want = expected(route, role, target)
                checked += 1
                seen[target] = r
                if r.status_code != want:
                    mismatches.append((method, path, role, target, want, r.status_code))
                if 200 <= r.status_code < 300 and not 200 <= want < 300:
                    leaks.append((method, path, role, target, r.status_code))
            foreign_hidden = expected(route, role, "foreign") == 404
            if foreign_hidden and comparable(seen["foreign"]) != comparable(seen["none"]):
                leaks.append((method, path, role, "foreign differs from nonexistent"))
        for bad in BAD_TOKENS:
            headers = {} if bad == "missing" else {"Authorization": f"Bearer {tokens[bad]}"}
            url = subject_path(path, "auditor", "own", s)
            r = client.request(method, url, headers=headers, json=BODIES.get(path))
            checked += 1
            want = 200 if route in PUBLIC_ROUTES else 403 if route == ("GET", "/metrics") else 401
            if r.status_code != want:
                mismatches.append((method, path, bad, "own", want, r.status_code))
            if 200 <= r.status_code < 300 and want == 401:
                leaks.append((method, path, bad, r.status_code))
    assert leaks == []
    assert mismatches == []
    assert checked >= len(EXPECTED) * (len(ROLES) * len(TARGETS) + len(BAD_TOKENS))


def test_a_village_caseworker_sees_only_their_village(client, service_settings) -> None:
    from support.service_seed import OWN_TOWNSHIP, subjects

    from serving.runtime import auth
    from serving.store import db

    s = subjects(service_settings)
    engine = db.make_engine(service_settings.service_db_url)
    with engine.begin() as conn:
        token, _ = auth.create_token(conn, "caseworker", s.own_village)
    engine.dispose()
    h = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/lists/{s.own_village}", headers=h).status_code == 200
    village_list = client.get(f"/api/v1/lists/{s.own_village}", headers=h).json()
    assert all(e["village_code"] == s.own_village for e in village_list["entries"])
    assert client.get(f"/api/v1/lists/{OWN_TOWNSHIP}", headers=h).status_code == 404
    assert client.get(f"/api/v1/lists/{s.other_village_in_township}", headers=h).status_code == 404
    assert client.get(f"/api/v1/households/{s.own_household}", headers=h).status_code == 200


def test_a_revoked_token_is_refused(client, service_settings) -> None:
    from serving.runtime import auth
    from serving.store import db

    engine = db.make_engine(service_settings.service_db_url)
    with engine.begin() as conn:
        token, token_id = auth.create_token(conn, "auditor")
    h = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=h).status_code == 200
    with engine.begin() as conn:
        assert auth.revoke_token(conn, token_id)
    engine.dispose()
    client.app.state.service._tokens.clear()  # the 2 s token cache, skipped for the test
    r = client.get("/api/v1/me", headers=h)
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
