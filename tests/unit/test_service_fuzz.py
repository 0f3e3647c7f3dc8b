"""No query value gives a 500 (issue 18, item 4): a property test over every query parameter of
every GET route, API and pages, signed in as an auditor (who may open every route), on a
service database with one complete run and one scored household (path parameters that exist).

The API's parameters come from the routes themselves; the pages read theirs from
``request.query_params``, so they are listed here and a check over the page sources keeps the
list complete. Values mix arbitrary text (control characters, full-width digits, surrogate-free
unicode), huge and negative integers, far dates and times with extreme offsets.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.bare_service import (
    HOUSEHOLD,
    TOWNSHIP,
    bare_app,
    bare_settings,
    client,
    seed_household,
    token,
)
from support.pages import csrf_of

PAGE_PARAMS = {
    "/lists/{code}": ["village", "lang"],
    "/lists/{code}/print": ["village", "lang"],
    "/lists/{code}/export.csv": ["village", "lang", "sensitive", "purpose"],
    "/lists/{code}/export.xlsx": ["village", "lang", "sensitive", "purpose"],
    "/audit/households": ["ref", "lang"],
    "/audit/log": ["actor", "role", "action", "resource", "household_ref", "from", "to",
                   "before_id", "lang"],
    "/audit/model": ["lang"],
}  # fmt: skip
PAGES_DIR = Path(__file__).resolve().parents[2] / "serving" / "pages"

offsets = st.sampled_from(["+23:59", "-23:59", "Z", "+00:00", "%2B14:00", ""])
years = st.sampled_from(["0001", "0000", "1969", "2024", "9999", "10000"])
values = st.one_of(
    st.text(max_size=40),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.builds(lambda y, o: f"{y}-12-31T23:59:59{o}", years, offsets),
    st.builds(lambda y: f"{y}-01-01", years),
    st.sampled_from(["", " ", "\x00", "1e308", "NaN", "-1", "0", "H" + "0" * 24, "330226001",
                     "９" * 18, "330226 19800101 123X", "%", "a" * 5000]),
)  # fmt: skip


def _page_keys_in_source() -> set[str]:
    found = set()
    for path in PAGES_DIR.glob("*.py"):
        found |= set(re.findall(r"query_params\.get\(\"(\w+)\"\)", path.read_text("utf-8")))
    return found


def test_the_page_parameter_list_is_complete() -> None:
    listed = {p for params in PAGE_PARAMS.values() for p in params}
    audit_filters = set(PAGE_PARAMS["/audit/log"])
    assert _page_keys_in_source() <= listed | audit_filters


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory):
    settings = bare_settings(tmp_path_factory.mktemp("fuzz"))
    seed_household(settings)
    auditor = token(settings, "auditor")
    app = bare_app(settings, token_cache_seconds=60, denied_rows_per_minute=1)
    with client(app) as api, client(app) as page:
        form = page.get("/signin")
        page.post("/signin", data={"token": auditor, "csrf_token": csrf_of(form.text)})
        yield app, api, page, HOUSEHOLD, {"Authorization": f"Bearer {auditor}"}


def _query_names(dependant) -> set[str]:
    """The query parameters of a route and of its dependencies."""
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _targets(app, ref) -> list[tuple[str, str, str]]:
    fill = {"{household_ref}": ref, "{jurisdiction_code}": TOWNSHIP, "{ref}": ref,
            "{code}": TOWNSHIP}  # fmt: skip
    out = []
    for context in iter_route_contexts(app.routes):
        route = context.route
        if not isinstance(route, APIRoute) or "GET" not in (context.methods or ()):
            continue
        path = context.path
        for k, v in fill.items():
            path = path.replace(k, v)
        names = sorted(_query_names(route.dependant))
        names += PAGE_PARAMS.get(context.path, [])
        out += [("api" if route.path.startswith("/api/") else "page", path, n) for n in names]
    return out


def test_every_query_parameter_of_every_route_is_fuzzed(fuzz) -> None:
    app, *_, s, _h = fuzz
    targets = _targets(app, s)
    assert {p for _, p, _ in targets} >= {"/api/v1/audit", "/audit/log"}
    assert len(targets) >= 25


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_no_query_value_gives_a_server_error(fuzz, data) -> None:
    app, api, page, s, headers = fuzz
    kind, path, name = data.draw(st.sampled_from(_targets(app, s)))
    if name == "lang":  # the language switch: any value, on any page
        kind = "page"
    value = data.draw(values)
    if kind == "api":
        r = api.get(path, params={name: value}, headers=headers)
    else:
        r = page.get(path, params={name: value}, follow_redirects=False)
    assert r.status_code < 500, (path, name, r.status_code)


@pytest.mark.parametrize(
    "query",
    ["before_id=9223372036854775808", "since=0001-01-01T00:00:00%2B23:59",
     "since=9999-12-31T23:59:59-23:59"],
)  # fmt: skip
def test_the_reviewed_audit_values_answer_422(fuzz, query) -> None:
    _app, api, _page, _s, headers = fuzz
    assert api.get(f"/api/v1/audit?{query}", headers=headers).status_code == 422


def test_the_reviewed_page_value_answers_without_a_500(fuzz) -> None:
    _app, _api, page, _s, _headers = fuzz
    assert page.get("/audit/log?to=9999-12-31").status_code == 422
