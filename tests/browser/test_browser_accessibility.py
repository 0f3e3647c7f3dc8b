"""Every page: no serious or critical axe-core violation, and the contract's headers."""

from __future__ import annotations

import pytest
from browser_world import TOWNSHIP

pytestmark = pytest.mark.browser

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
# (role, path, languages); {ref} is the first household on the caseworker's list. Every page in
# Chinese (the default); the pages a caseworker uses most in English too.
PAGES = [
    (None, "/signin", ("zh", "en")),
    ("caseworker", f"/lists/{TOWNSHIP}", ("zh", "en")),
    ("caseworker", "/households/{ref}", ("zh", "en")),
    ("caseworker", f"/lists/{TOWNSHIP}/print", ("zh",)),
    ("supervisor", "/lists", ("zh",)),
    ("auditor", "/audit", ("zh",)),
    ("auditor", "/audit/model", ("zh",)),
    ("auditor", "/audit/households/{ref}", ("zh",)),
    ("auditor", "/audit/log", ("zh",)),
]
CASES = [
    pytest.param(role, path, lang, id=f"{lang}-{path}")
    for role, path, langs in PAGES
    for lang in langs
]
PERSONAL = ("/lists/", "/households/", "/audit/households/", "/audit/log")


@pytest.mark.parametrize(("role", "path", "lang"), CASES)
def test_page_has_no_serious_accessibility_violation(web, role, path, lang):
    page = web.page(role)
    target = path.format(ref=web.listed(0))
    response = web.goto(page, f"{target}?lang={lang}")
    assert response.status == 200
    headers = response.headers
    assert headers.get("content-security-policy") == CSP
    assert headers.get("x-content-type-options") == "nosniff"
    assert headers.get("referrer-policy") == "no-referrer"
    if target.startswith(PERSONAL):
        assert "no-store" in headers.get("cache-control", ""), target
    web.check_axe(page)
