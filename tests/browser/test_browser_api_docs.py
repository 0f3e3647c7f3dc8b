"""The API document in a real browser (issue 18, item 5): Swagger UI from the packaged assets
renders every operation under the pages' content security policy, and nothing is fetched from
another origin."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_swagger_ui_renders_under_the_csp_from_this_origin_only(live_server, chromium) -> None:
    context = chromium.new_context()
    page = context.new_page()
    refused: list[str] = []
    elsewhere: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text
            else None)  # fmt: skip
    page.on("request", lambda r: elsewhere.append(r.url)
            if not r.url.startswith(live_server.url) else None)  # fmt: skip
    try:
        response = page.goto(live_server.url + "/docs")
        assert response is not None and response.status == 200
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_selector(".opblock", timeout=30_000)
        assert page.locator(".opblock").count() >= 15  # every API operation listed
        assert refused == [], refused
        assert elsewhere == [], elsewhere
    finally:
        context.close()
