"""Signing in with a token, landing on the role's home, signing out."""

from __future__ import annotations

import pytest
from browser_world import TOWNSHIP
from playwright.sync_api import expect
from support.browser_harness import sign_in

pytestmark = pytest.mark.browser

HOMES = {
    "caseworker": f"/lists/{TOWNSHIP}",
    "supervisor": "/lists",
    "auditor": "/audit",
    "data_scientist": "/audit/model",
}


@pytest.mark.parametrize("role", list(HOMES))
def test_token_form_lands_on_own_home(web, role):
    page = web.page()
    web.goto(page, "/signin")
    assert page.locator("#signin-form input#token").get_attribute("type") == "password"
    assert page.locator("#signin-form input[name=csrf_token]").count() == 1
    landing = sign_in(page, web.base, web.tokens[role])
    assert landing.status == 200
    assert page.url == web.base + HOMES[role]
    web.shot(page)
    session = next(c for c in page.context.cookies() if c["name"] == "outreach_session")
    assert session["httpOnly"] and session["sameSite"] == "Strict" and session["path"] == "/"


def test_supervisor_home_lists_the_townships(web):
    page = web.page("supervisor")
    web.goto(page, "/lists")
    links = page.locator("a[data-testid=jurisdiction-link]")
    assert links.count() >= 2
    with page.expect_navigation():
        links.first.click()
    expect(page.locator("tr[data-testid=list-row]").first).to_be_visible()
    web.shot(page)


def test_wrong_token_is_refused_on_the_form(web):
    page = web.page()
    landing = sign_in(page, web.base, "otk_nothing_" + "x" * 20)
    web.shot(page)
    assert landing.status == 401
    assert page.locator("[data-testid=signin-error]").is_visible()
    web.check_axe(page)
    assert not [c for c in page.context.cookies() if c["name"] == "outreach_session"]


def test_pages_need_a_session(web):
    page = web.page()
    for path in (f"/lists/{TOWNSHIP}", "/audit", "/"):
        web.goto(page, path)
        assert page.url.split("?")[0] == web.base + "/signin", path


def test_sign_out_ends_the_session(web):
    page = web.page()
    sign_in(page, web.base, web.tokens["caseworker"])
    with page.expect_navigation():
        page.locator("form[action='/signout'] [type=submit]").click()
    assert page.url.split("?")[0] == web.base + "/signin"
    web.goto(page, f"/lists/{TOWNSHIP}")
    assert page.url.split("?")[0] == web.base + "/signin"


def test_revoking_the_token_ends_the_session(web):
    from serving.runtime import auth
    from serving.store import db

    engine = db.make_engine(web.settings.service_db_url)
    with engine.begin() as conn:
        token, token_id = auth.create_token(conn, "caseworker", TOWNSHIP, 1)
    page = web.page()
    sign_in(page, web.base, token)
    assert page.url == web.base + HOMES["caseworker"]
    with engine.begin() as conn:
        assert auth.revoke_token(conn, token_id)
    engine.dispose()
    for _ in range(10):  # the service trusts a verified token for 2 s
        page.wait_for_timeout(500)
        page.goto(web.base + HOMES["caseworker"])
        if page.url.split("?")[0] == web.base + "/signin":
            break
    web.shot(page)
    assert page.url.split("?")[0] == web.base + "/signin"
