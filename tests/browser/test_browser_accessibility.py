"""Every page: no serious or critical axe-core violation, and the contract's headers."""

from __future__ import annotations

import pytest
from browser_world import TOWNSHIP

pytestmark = pytest.mark.browser

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
# (role, path); {ref} is the first household on the caseworker's list. Every page, in Chinese
# (the default) and in English.
PAGES = [
    (None, "/signin"),
    ("caseworker", f"/lists/{TOWNSHIP}"),
    ("caseworker", "/households/{ref}"),
    ("caseworker", f"/lists/{TOWNSHIP}/print"),
    ("caseworker", f"/lists/{TOWNSHIP}/print?ref={{ref}}"),
    ("supervisor", "/lists"),
    ("supervisor", "/coverage"),
    ("supervisor", f"/coverage/{TOWNSHIP}"),
    ("supervisor", f"/coverage/{TOWNSHIP}001"),
    ("auditor", "/audit"),
    ("auditor", "/audit/model"),
    ("auditor", "/audit/households/{ref}"),
    ("auditor", "/audit/log"),
    ("auditor", "/audit/linkage"),
    ("auditor", "/audit/linkage?ref={ref}"),
    ("auditor", "/audit/linkage/pair?{pair}"),
    ("supervisor", "/twin"),
]
CASES = [
    pytest.param(role, path, lang, id=f"{lang}-{path}")
    for role, path in PAGES
    for lang in ("zh", "en")
]
PERSONAL = ("/lists/", "/households/", "/audit/households/", "/audit/log", "/audit/linkage")


@pytest.mark.parametrize(("role", "path", "lang"), CASES)
def test_page_has_no_serious_accessibility_violation(web, role, path, lang):
    page = web.page(role)
    ref = web.listed(0)
    target = path.format(ref=ref, pair=web.record_pair(ref) if "{pair}" in path else "")
    response = web.goto(page, f"{target}{'&' if '?' in target else '?'}lang={lang}")
    assert response.status == 200
    headers = response.headers
    assert headers.get("content-security-policy") == CSP
    assert headers.get("x-content-type-options") == "nosniff"
    assert headers.get("referrer-policy") == "no-referrer"
    if target.startswith(PERSONAL):
        assert "no-store" in headers.get("cache-control", ""), target
    web.check_axe(page)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize(("path", "status"), [("/audit", 403), ("/lists/330226999", 404)])
def test_error_pages_have_no_serious_accessibility_violation(web, lang, path, status):
    page = web.page("caseworker")
    response = web.goto(page, f"{path}?lang={lang}")
    assert response.status == status
    web.check_axe(page)
