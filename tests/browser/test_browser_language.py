"""Chinese by default; ``?lang=en`` switches to English and is remembered in a cookie."""

from __future__ import annotations

import pytest
from browser_world import TOWNSHIP

pytestmark = pytest.mark.browser


def test_language_switch_to_english_and_back(web):
    page = web.page("caseworker")
    web.goto(page, f"/lists/{TOWNSHIP}")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    web.goto(page, f"/lists/{TOWNSHIP}?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    cookie = next(c for c in page.context.cookies() if c["name"] == "lang")
    assert cookie["value"] == "en" and not cookie["httpOnly"]
    ref = page.locator("tr[data-testid=list-row]").first.get_attribute("data-ref")
    web.goto(page, f"/households/{ref}")  # remembered without the parameter
    assert page.locator("html").get_attribute("lang") == "en"
    assert "log-odds" in page.locator("svg#shap-waterfall").text_content()
    web.goto(page, f"/households/{ref}?lang=zh")
    assert page.locator("html").get_attribute("lang") == "zh-CN"


def test_sign_in_page_in_english(web):
    page = web.page()
    web.goto(page, "/signin?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#signin-form button[type=submit]").is_visible()
