"""Docs and operations (issue 18, item 5). The review found ``/docs`` loading Swagger UI from a
public CDN with no integrity hash, outside the CSP; ``/metrics`` and ``/docs`` open to anyone;
API responses without ``Cache-Control: no-store`` and ``nosniff``; and no HSTS over TLS."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from support.bare_service import bare_app, bearer, client, token

from core.settings import load_settings
from serving.store import db, tables

LOOPBACK = ("127.0.0.1", 40000)
METRICS_TOKEN = "m" * 40


def _settings(tmp_path, env=None, **service):
    return load_settings(tmp_path, environ=env or {}, service=service)


@pytest.fixture
def settings(tmp_path):
    return _settings(tmp_path)


def test_every_answer_is_no_store_and_nosniff(settings) -> None:
    from serving.api.headers import API_CSP, CSP

    auditor = token(settings, "auditor")
    with client(bare_app(settings, max_body_bytes=2048)) as c:
        answers = {
            "api": c.get("/api/v1/me", headers=bearer(auditor)),
            "api 401 (limits)": c.get("/api/v1/me"),
            "api 413 (limits)": c.post("/api/v1/me", content=b"x" * 4096),
            "api 404": c.get("/api/v1/nothing", headers=bearer(auditor)),
            "openapi": c.get("/openapi.json"),
            "healthz": c.get("/healthz"),
            "readyz": c.get("/readyz"),
            "page": c.get("/signin"),
            "docs": c.get("/docs"),
        }
    for name, r in answers.items():
        assert r.headers.get("x-content-type-options") == "nosniff", name
        assert r.headers.get("cache-control") == "no-store", name
        assert r.headers.get("x-frame-options") == "DENY", name
        expected = CSP if name in ("page", "docs") else API_CSP
        assert r.headers.get("content-security-policy") == expected, name
    assert answers["api 401 (limits)"].status_code == 401
    assert answers["api 413 (limits)"].status_code == 413


def test_docs_come_from_packaged_assets_under_the_page_csp(settings) -> None:
    with client(bare_app(settings)) as c:
        page = c.get("/docs")
        assert page.status_code == 200
        html = page.text
        assert "//" not in re.sub(r"<!doctype[^>]*>", "", html, flags=re.I)  # no other origin
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # no inline script
        assert "style=" not in html and "<style" not in html  # no inline style
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert {"/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css",
                "/docs/init.js"} <= set(sources)  # fmt: skip
        for src in sources:
            r = c.get(src)
            assert r.status_code == 200 and len(r.content) > 100, src
            assert r.headers["x-content-type-options"] == "nosniff"
        assert "SwaggerUIBundle" in c.get("/docs/assets/swagger-ui-bundle.js").text[:2000]
        assert c.get("/docs/assets/swagger-ui.css").headers["cache-control"] == "no-cache"
        assert "/openapi.json" in c.get("/docs/init.js").text
        assert c.get("/redoc").status_code == 404  # ReDoc injects inline styles: not served
        assert c.get("/docs/oauth2-redirect").status_code == 404


def test_docs_can_be_turned_off(tmp_path) -> None:
    with client(bare_app(_settings(tmp_path, api_docs=False))) as c:
        for path in ("/docs", "/openapi.json", "/docs/assets/swagger-ui-bundle.js"):
            assert c.get(path).status_code == 404, path
        assert c.get("/healthz").status_code == 200


def _denied_metrics(settings) -> int:
    engine = db.make_engine(settings.service_db_url)
    try:
        with engine.connect() as conn:
            a = tables.audit_log.c
            q = sa.select(sa.func.count()).where(a.action == "denied", a.resource == "/metrics")
            return conn.execute(q).scalar_one()
    finally:
        engine.dispose()


def test_metrics_answer_loopback_callers_only_without_a_token(settings) -> None:
    auditor = token(settings, "auditor")
    app = bare_app(settings)
    with client(app) as remote, client(app, client=LOOPBACK) as local:
        r = remote.get("/metrics")
        assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
        assert (
            remote.get("/metrics", headers=bearer(auditor)).status_code == 403
        )  # no role opens it
        assert local.get("/metrics").status_code == 200
        assert "outreach" in local.get("/metrics").text
        # a proxy on the same machine relays someone else: refused
        assert local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403
        assert local.get("/metrics", headers={"Forwarded": "for=203.0.113.9"}).status_code == 403
    assert _denied_metrics(settings) >= 1


def test_the_metrics_token_opens_metrics_from_anywhere(tmp_path) -> None:
    settings = _settings(tmp_path, env={"OUTREACH_METRICS_TOKEN": METRICS_TOKEN})
    with client(bare_app(settings)) as c, client(bare_app(settings), client=LOOPBACK) as local:
        assert c.get("/metrics", headers=bearer(METRICS_TOKEN)).status_code == 200
        assert c.get("/metrics", headers=bearer("n" * 40)).status_code == 403
        assert c.get("/metrics").status_code == 403
        # with a token configured, a loopback caller presenting a wrong one is refused too
        assert local.get("/metrics", headers=bearer("n" * 40)).status_code == 403


def test_a_short_metrics_token_is_one_clear_line(tmp_path) -> None:
    from core.errors import ConfigError

    with pytest.raises(ConfigError, match="metrics_token"):
        _settings(tmp_path, env={"OUTREACH_METRICS_TOKEN": "short"})


def test_hsts_only_over_https_direct_or_from_a_trusted_proxy(tmp_path) -> None:
    plain = _settings(tmp_path)
    with client(bare_app(plain)) as c:
        assert "strict-transport-security" not in c.get("/healthz").headers
        # an untrusted peer claiming https is not believed
        claimed = c.get("/healthz", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" not in claimed.headers
    with client(bare_app(plain), base_url="https://testserver") as c:
        assert c.get("/healthz").headers["strict-transport-security"].startswith("max-age=")
        assert c.get("/signin").headers["strict-transport-security"].startswith("max-age=")
    proxied = _settings(tmp_path, trusted_proxies=["10.0.0.0/24"])
    app = bare_app(proxied)
    with client(app, client=("10.0.0.7", 5555)) as via_proxy, client(app) as other:
        r = via_proxy.get("/healthz", headers={"X-Forwarded-Proto": "https"})
        assert r.headers["strict-transport-security"].startswith("max-age=")
        assert "strict-transport-security" not in via_proxy.get("/healthz").headers
        r = other.get("/healthz", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" not in r.headers
