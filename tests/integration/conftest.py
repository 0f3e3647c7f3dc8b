"""Fixtures of the service tests: one scored workspace per session, tokens per role."""

from __future__ import annotations

import datetime as dt

import pytest

from core.settings import Settings


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
