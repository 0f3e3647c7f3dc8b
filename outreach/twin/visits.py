"""List visits answered by the world, recorded through the service (audited like a caseworker's).

Each list visit the county answered becomes a visit outcome in the policy's service database
through :func:`serving.api.records.record_outcomes`: the API's own validation and write path,
the outcome row and its audit row in one transaction, attributed to the twin's recording token
(one per policy folder, county-wide, kept owner-only in ``twin-token``). The service runs on a
simulated clock: the last day of the visit month at 18:00 local time, so the visit-date rule
holds for the month's visits and ``outreach outcomes export`` files them in that month.

Recording a month twice writes nothing new (a resumed run): the month's outcomes already
recorded by the twin's token are counted first.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from core.months import LOCAL_TZ
from core.settings import Settings
from serving.api.records import record_outcomes
from serving.runtime import auth
from serving.runtime.modelswap import ChampionWatcher
from serving.runtime.service import Service, ServiceOptions
from serving.store import db
from serving.store.tables import visit_outcomes

TOKEN_FILE = "twin-token"
TOKEN_DAYS = 366


@dataclass(frozen=True)
class Recorded:
    written: int
    already: int


@dataclass(frozen=True)
class TwinToken:
    value: str
    id: str


def twin_token(settings: Settings, folder: Path, county_code: str) -> TwinToken:
    """The policy's recording token: a county supervisor (a caseworker token covers one
    township; a supervisor records like a caseworker), created once, kept owner-only."""
    path = folder / TOKEN_FILE
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        return TwinToken(data["token"], data["id"])
    db.upgrade(settings.service_db_url)
    engine = db.make_engine(settings.service_db_url)
    try:
        with engine.begin() as conn:
            value, token_id = auth.create_token(
                conn,
                "supervisor",
                county_code,
                TOKEN_DAYS,
                holder="outreach twin (simulated visits)",
            )
    finally:
        engine.dispose()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"token": value, "id": token_id}, f)
    return TwinToken(value, token_id)


def _no_champion() -> ChampionWatcher:
    def _load(version: str):  # pragma: no cover - never called: no version is ever named
        raise AssertionError(version)

    return ChampionWatcher(version_of=lambda: None, load=_load, poll_seconds=3600)


def record_list_visits(
    settings: Settings, visits: pd.DataFrame, token: TwinToken, month_end: dt.date
) -> Recorded:
    """Record the month's list visits (``household_key``, ``visit_date``, ``outcome``)."""
    if visits.empty:
        return Recorded(0, 0)
    days = pd.to_datetime(visits["visit_date"]).dt.date
    first = min(days)
    engine = db.make_engine(settings.service_db_url)
    try:
        v = visit_outcomes.c
        with engine.connect() as conn:
            already = conn.execute(
                sa.select(sa.func.count())
                .select_from(visit_outcomes)
                .where(v.recorded_by == token.id, v.visit_date.between(first, month_end))
            ).scalar_one()
    finally:
        engine.dispose()
    if already:
        return Recorded(0, int(already))
    now = dt.datetime.combine(month_end, dt.time(18), LOCAL_TZ)
    service = Service(
        settings, ServiceOptions(token_cache_seconds=0, token_requests_per_second=None),
        _no_champion(), clock=lambda: now,
    )  # fmt: skip
    service.start()
    try:
        outcomes = [
            {"household_ref": key, "visit_date": day.isoformat(), "outcome": outcome}
            for key, day, outcome in zip(
                visits["household_key"], days, visits["outcome"], strict=True
            )  # fmt: skip
        ]
        written = record_outcomes(service, token.value, outcomes)
    finally:
        service.close()
    return Recorded(len(written), 0)
