"""List visits answered by the world, recorded through the service's write path (audited).

Each list visit the county answered becomes a visit outcome in the policy's service database,
written the way a caseworker's outcome is written by ``POST .../outcomes``: the outcome row and
its audit row commit in one transaction under the audit chain's lock, attributed to the twin's
caseworker (``twin-caseworker``), with the run that listed the household. The recording time is
the simulated visit day (local noon), so ``outreach outcomes export`` files it in the month of
the visit.

Recording a month twice writes nothing new (a resumed run): the month's outcomes already
recorded by the twin are counted first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from core.months import LOCAL_TZ
from core.settings import Settings
from serving.store import chain, db
from serving.store.db import AuditEvent
from serving.store.tables import visit_outcomes

ACTOR = "twin-caseworker"
PURPOSE = "record a visit and its findings"


@dataclass(frozen=True)
class Recorded:
    written: int
    already: int


def record_list_visits(settings: Settings, visits: pd.DataFrame) -> Recorded:
    """Record the month's list visits.

    Args:
        visits: one row per visit: ``household_key``, ``visit_date`` (date), ``outcome``
            (``in_need``, ``not_in_need``, ``not_found``), ``run_id``, ``model_version``.
    """
    if visits.empty:
        return Recorded(0, 0)
    visits = visits.assign(visit_date=pd.to_datetime(visits["visit_date"]).dt.date)
    engine = db.make_engine(settings.service_db_url)
    try:
        first, last = visits["visit_date"].min(), visits["visit_date"].max()
        v = visit_outcomes.c
        with engine.begin() as conn:
            head = chain.lock(conn)
            already = conn.execute(
                sa.select(sa.func.count())
                .select_from(visit_outcomes)
                .where(v.recorded_by == ACTOR, v.visit_date.between(first, last))
            ).scalar_one()
            if already:
                return Recorded(0, int(already))
            rows, events = [], []
            for r in visits.itertuples(index=False):
                day: dt.date = r.visit_date
                rows.append(
                    {
                        "household_id": r.household_key,
                        "visit_date": day,
                        "outcome": r.outcome,
                        "programs_started": [],
                        "note": None,
                        "recorded_by": ACTOR,
                        "recorded_at": dt.datetime.combine(day, dt.time(12), LOCAL_TZ).astimezone(
                            dt.UTC
                        ),
                        "run_id": r.run_id,
                        "model_version": r.model_version,
                    }
                )
            for row in rows:
                new_id = conn.execute(visit_outcomes.insert().values(**row)).inserted_primary_key[0]
                events.append(
                    AuditEvent(
                        actor=ACTOR,
                        role="caseworker",
                        action="write",
                        resource="visit_outcome",
                        purpose=PURPOSE,
                        household_id=row["household_id"],
                        jurisdiction_code=None,
                        request_id=f"twin-{row['visit_date']:%Y%m}",
                        detail={"outcome": row["outcome"], "id": int(new_id)},
                    )
                )
            chain.append(conn, events, head)
        return Recorded(len(rows), 0)
    finally:
        engine.dispose()
