"""A service on an empty workspace (no run, no champion): enough for what needs no scores --
tokens, the audit log, limits, refusals, sign-in. A helper module; tests/ is on sys.path."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from core.settings import Settings, load_settings
from serving.app import create_app
from serving.runtime import auth
from serving.runtime.modelswap import ChampionWatcher
from serving.runtime.service import ServiceOptions
from serving.store import db

UNLIMITED = {"anonymous_per_minute": 1_000_000, "token_requests_per_second": None}
"""Service options without rate limits, for tests that send many requests on purpose."""


def no_champion() -> ChampionWatcher:
    """A watcher that never finds a champion."""

    def _load(version: str):  # pragma: no cover - never called
        raise AssertionError(version)

    return ChampionWatcher(version_of=lambda: None, load=_load, poll_seconds=60)


def bare_settings(workspace: Path, db_url: str | None = None) -> Settings:
    """Settings of an empty workspace (the SQLite default, or ``db_url``)."""
    env = {"OUTREACH_DB_URL": db_url} if db_url else {}
    return load_settings(workspace, environ=env)


def bare_app(settings: Settings, **options) -> FastAPI:
    """The application on an empty workspace, tokens re-checked on every request."""
    opts = {"token_cache_seconds": 0, "poll_seconds": 60, **UNLIMITED, **options}
    return create_app(settings, ServiceOptions(**opts), watcher=no_champion())


def token(settings: Settings, role: str, jurisdiction: str | None = None) -> str:
    """A new token of ``role`` (the database is migrated first)."""
    db.upgrade(settings.service_db_url)
    engine = db.make_engine(settings.service_db_url)
    try:
        with engine.begin() as conn:
            value, _ = auth.create_token(conn, role, jurisdiction)
    finally:
        engine.dispose()
    return value


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def client(app: FastAPI, **kw) -> TestClient:
    """A test client that answers server errors as 500s (so tests can assert on them)."""
    return TestClient(app, raise_server_exceptions=False, **kw)


HOUSEHOLD = "H" + "ab" * 12
TOWNSHIP = "330226001"


def seed_household(settings: Settings) -> str:
    """One complete run with one scored household in :data:`TOWNSHIP`; returns its reference."""
    import datetime as dt

    from serving.store import tables

    now = dt.datetime.now(dt.UTC)
    as_of = dt.date.today().replace(day=1) - dt.timedelta(days=1)
    db.upgrade(settings.service_db_url)
    engine = db.make_engine(settings.service_db_url)
    try:
        with engine.begin() as conn:
            conn.execute(tables.score_runs.insert().values(
                run_id="r1", as_of=as_of, model_name="m", model_version="1",
                feature_set_version="fs", snapshot_id="s", priority_version="p",
                capacity={"share": 0.1}, exploration_share=0.0, started_at=now,
                finished_at=now, status="complete", chunks_done=1, n_households=1,
            ))  # fmt: skip
            conn.execute(tables.scores.insert().values(
                run_id="r1", household_id=HOUSEHOLD, as_of=as_of, model_version="1",
                township_code=TOWNSHIP, village_code=TOWNSHIP + "001", score=0.5,
                raw_score=0.0, band="high", priority=0.5,
            ))  # fmt: skip
    finally:
        engine.dispose()
    return HOUSEHOLD
