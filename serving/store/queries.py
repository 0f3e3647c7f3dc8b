"""Read queries of the service over the service database (SQLAlchemy Core, both backends).

Only complete runs are ever read. Household rows come back as plain dicts; turning them into
response schemas is the job of :mod:`serving.api.responses`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from serving.store.tables import corrections, eligibility, list_entries, score_runs, scores
from serving.store.tables import visit_outcomes as visits

_IN_CHUNK = 500


def latest_household_row(conn: Connection, household_id: str) -> dict[str, Any] | None:
    """The household's score row in its newest complete run, or None (never scored)."""
    q = (
        sa.select(scores)
        .join(score_runs, score_runs.c.run_id == scores.c.run_id)
        .where(scores.c.household_id == household_id, score_runs.c.status == "complete")
        .order_by(scores.c.as_of.desc(), score_runs.c.finished_at.desc(), scores.c.run_id.desc())
        .limit(1)
    )
    row = conn.execute(q).mappings().first()
    return dict(row) if row is not None else None


def score_history(conn: Connection, household_id: str) -> list[dict[str, Any]]:
    """Every complete run's score row of a household, newest first, with ``listed_in``."""
    q = (
        sa.select(scores)
        .join(score_runs, score_runs.c.run_id == scores.c.run_id)
        .where(scores.c.household_id == household_id, score_runs.c.status == "complete")
        .order_by(scores.c.as_of.desc(), score_runs.c.finished_at.desc())
    )
    rows = [dict(r) for r in conn.execute(q).mappings()]
    listed: dict[str, list[str]] = {}
    q2 = sa.select(list_entries.c.run_id, list_entries.c.jurisdiction_code).where(
        list_entries.c.household_id == household_id
    )
    for run_id, code in conn.execute(q2):
        listed.setdefault(run_id, []).append(code)
    for r in rows:
        r["listed_in"] = sorted(listed.get(r["run_id"], []))
    return rows


def eligibility_rows(
    conn: Connection, run_id: str, household_ids: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """Stored eligibility rows per household of one run."""
    out: dict[str, list[dict[str, Any]]] = {}
    ids = list(household_ids)
    for i in range(0, len(ids), _IN_CHUNK):
        q = sa.select(eligibility).where(
            eligibility.c.run_id == run_id, eligibility.c.household_id.in_(ids[i : i + _IN_CHUNK])
        )
        for r in conn.execute(q).mappings():
            out.setdefault(r["household_id"], []).append(dict(r))
    return out


def jurisdiction_exists(conn: Connection, run_id: str, code: str) -> bool:
    """Whether the run scored any household in this township or village."""
    col = scores.c.village_code if len(code) == 12 else scores.c.township_code
    q = sa.select(sa.literal(1)).where(scores.c.run_id == run_id, col == code).limit(1)
    return conn.execute(q).first() is not None


def list_rows(conn: Connection, run_id: str, code: str) -> list[dict[str, Any]]:
    """The run's list for a township or village, in visit order, joined with the scores.

    The run's own list for the code when it has one; else, for a village, the entries of its
    township's list that live in the village (rank order kept); else, for a township, its
    villages' lists merged by priority, score and household key.
    """
    le, s = list_entries, scores
    cols = [
        le.c.rank, le.c.household_id, le.c.priority, le.c.exploration, le.c.model_version,
        le.c.path, le.c.selection_probability, s.c.score, s.c.raw_score, s.c.band,
        s.c.low_confidence_link, s.c.reasons, s.c.base_value, s.c.programs, s.c.village_code,
        s.c.township_code,
    ]  # fmt: skip
    base = (
        sa.select(*cols)
        .join(s, sa.and_(s.c.run_id == le.c.run_id, s.c.household_id == le.c.household_id))
        .where(le.c.run_id == run_id)
    )
    rows = conn.execute(base.where(le.c.jurisdiction_code == code).order_by(le.c.rank)).mappings()
    found = [dict(r) for r in rows]
    if found:
        return found
    if len(code) == 12:
        q = base.where(le.c.jurisdiction_code == code[:9], s.c.village_code == code)
        return [dict(r) for r in conn.execute(q.order_by(le.c.rank)).mappings()]
    q = base.where(
        le.c.jurisdiction_code.like(f"{code}%"), sa.func.length(le.c.jurisdiction_code) == 12
    )
    q = q.order_by(le.c.exploration, s.c.priority.desc(), s.c.score.desc(), le.c.household_id)
    return [dict(r) for r in conn.execute(q).mappings()]


def visit_rows(conn: Connection, household_id: str) -> list[dict[str, Any]]:
    """A household's recorded visits, newest first."""
    q = (
        sa.select(visits)
        .where(visits.c.household_id == household_id)
        .order_by(visits.c.visit_date.desc(), visits.c.id.desc())
    )
    return [dict(r) for r in conn.execute(q).mappings()]


def correction_rows(
    conn: Connection,
    household_id: str | None = None,
    status: str | None = None,
    township_prefix: str | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Corrections, newest first, by household, status, or area (a code prefix of the
    household's township in its latest complete run)."""
    q = sa.select(corrections).order_by(corrections.c.recorded_at.desc(), corrections.c.id.desc())
    if household_id is not None:
        q = q.where(corrections.c.household_id == household_id)
    if status is not None:
        q = q.where(corrections.c.status == status)
    if township_prefix is not None:
        inside = sa.select(scores.c.household_id).where(
            scores.c.township_code.like(f"{township_prefix}%")
        )
        q = q.where(corrections.c.household_id.in_(inside))
    return [dict(r) for r in conn.execute(q.limit(limit)).mappings()]
