"""Fixtures of the service tests: one scored workspace per session, tokens per role; for the
web page tests, an app, subjects and signed-in browsers per module."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest

from core.settings import Settings

if TYPE_CHECKING:
    from fastapi.testclient import TestClient


@pytest.fixture(scope="session")
def service_settings(fixture_workspace, tmp_path_factory) -> Settings:
    from support.service_seed import build_service_workspace

    return build_service_workspace(fixture_workspace, tmp_path_factory.mktemp("service") / "ws")


@pytest.fixture(scope="session")
def tokens(service_settings) -> dict[str, str]:
    """Valid tokens by role, plus an expired and a tampered one."""
    from serving.runtime import auth
    from serving.store import db, tables

    engine = db.make_engine(service_settings.service_db_url)
    out = {}
    with engine.begin() as conn:
        out["caseworker"], _ = auth.create_token(conn, "caseworker", "330226001")
        out["supervisor"], _ = auth.create_token(conn, "supervisor", "330226")
        out["auditor"], _ = auth.create_token(conn, "auditor")
        out["data_scientist"], _ = auth.create_token(conn, "data_scientist")
        old = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
        expired, row = auth.new_token("auditor", days=1, now=old)
        conn.execute(tables.api_tokens.insert().values(**row))
        out["expired"] = expired
    good = out["auditor"]
    out["tampered"] = good[:-1] + ("A" if good[-1] != "A" else "B")
    engine.dispose()
    return out


# ---------------------------------------------------------------- the web pages (test_pages_*.py)
# module-scoped: each page test module builds its own app and signed-in browsers
@pytest.fixture(scope="module")
def app(service_settings):
    from fastapi.testclient import TestClient
    from support.bare_service import UNLIMITED

    from serving.app import create_app
    from serving.runtime.service import ServiceOptions

    # tokens re-checked on every request (no 2 s cache), so revocation shows at once
    application = create_app(service_settings, ServiceOptions(token_cache_seconds=0, **UNLIMITED))
    with TestClient(application):
        yield application


@pytest.fixture(scope="module")
def s(service_settings):
    from support.service_seed import subjects

    return subjects(service_settings)


@pytest.fixture(scope="module")
def browsers(app, tokens) -> dict[str, TestClient]:
    from support.pages import ROLES, sign_in

    return {role: sign_in(app, tokens[role]) for role in ROLES}


@pytest.fixture(scope="module")
def csrf(browsers) -> dict[str, str]:
    from support.pages import csrf_of

    return {role: csrf_of(c.get("/lists").text) for role, c in browsers.items()}
