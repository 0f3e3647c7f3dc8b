"""What the field did with a run's lists: each listed household's visit state, and coverage
per township and village, straight from the service database.

A household's **state** for a run is its latest outcome recorded against that run
(``visit_outcomes.run_id``: the run whose list it was on when the outcome was recorded).
**Visited** means an outcome other than ``not_found``; **overdue** means listed (the run
finished) more than ``overdue_days`` ago and not visited.

Example:
    >>> c = Coverage("330226001")
    >>> c.add(exploration=True, outcomes=[("in_need", ["dibao"])], overdue=False)
    >>> (c.listed, c.visited, c.in_need, c.applications, c.exploration_visited)
    (1, 1, 1, 1, 1)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from serving.store.db import ScoreRun
from serving.store.tables import list_entries, scores, visit_outcomes

VISITED = ("visited", "in_need", "not_in_need")
OVERDUE_DAYS = 14
"""Default: a household listed more than this many days ago and not visited is overdue."""
_CHUNK = 500


@dataclasses.dataclass(frozen=True)
class VisitState:
    """A listed household's latest outcome for the run."""

    outcome: str
    visit_date: dt.date
    programs_started: list[str]

    @property
    def visited(self) -> bool:
        return self.outcome in VISITED


def visit_states(
    conn: Connection, run_id: str, household_ids: Sequence[str]
) -> dict[str, VisitState]:
    """The latest outcome recorded against ``run_id`` of each household that has one."""
    out: dict[str, VisitState] = {}
    v = visit_outcomes.c
    ids = list(household_ids)
    for i in range(0, len(ids), _CHUNK):
        q = (
            sa.select(v.household_id, v.outcome, v.visit_date, v.programs_started)
            .where(v.run_id == run_id, v.household_id.in_(ids[i : i + _CHUNK]))
            .order_by(v.household_id, v.visit_date, v.id)
        )
        for hh, outcome, date, programs in conn.execute(q):
            out[hh] = VisitState(outcome, date, list(programs or []))
    return out


@dataclasses.dataclass
class Coverage:
    """One area's figures for a run's lists."""

    code: str
    listed: int = 0
    visited: int = 0
    recorded: int = 0
    in_need: int = 0
    applications: int = 0
    overdue: int = 0
    exploration_listed: int = 0
    exploration_visited: int = 0

    def add(self, exploration: bool, outcomes: Sequence[tuple[str, list[str]]], overdue: bool):
        """Count one listed household with its outcomes for the run."""
        visited = any(o in VISITED for o, _ in outcomes)
        self.listed += 1
        self.recorded += bool(outcomes)
        self.visited += visited
        self.in_need += any(o == "in_need" for o, _ in outcomes)
        self.applications += any(bool(p) for _, p in outcomes)
        self.overdue += overdue and not visited
        self.exploration_listed += exploration
        self.exploration_visited += exploration and visited

    FIELDS = (
        "listed", "visited", "recorded", "in_need", "applications", "overdue",
        "exploration_listed", "exploration_visited",
    )  # fmt: skip

    def values(self) -> list[int]:
        return [getattr(self, f) for f in self.FIELDS]


def _as_int(column: Any) -> Any:
    return sa.cast(column, sa.Integer)


def _listed(conn: Connection, run_id: str, code: str) -> list[tuple[str, str, bool]]:
    """``(household, village, exploration)`` of every household on any of the run's lists in
    the township or village ``code``."""
    le, s = list_entries, scores
    area = s.c.township_code == code if len(code) == 9 else s.c.village_code == code
    q = (
        sa.select(
            le.c.household_id, s.c.village_code, sa.func.max(sa.cast(le.c.exploration, sa.Integer))
        )
        .join(s, sa.and_(s.c.run_id == le.c.run_id, s.c.household_id == le.c.household_id))
        .where(le.c.run_id == run_id, area)
        .group_by(le.c.household_id, s.c.village_code)
    )
    return [(hh, village, bool(x)) for hh, village, x in conn.execute(q)]


def _outcomes(
    conn: Connection, run_id: str, ids: Iterable[str]
) -> dict[str, list[tuple[str, list[str]]]]:
    out: dict[str, list[tuple[str, list[str]]]] = {}
    v = visit_outcomes.c
    ids = list(ids)
    for i in range(0, len(ids), _CHUNK):
        q = sa.select(v.household_id, v.outcome, v.programs_started).where(
            v.run_id == run_id, v.household_id.in_(ids[i : i + _CHUNK])
        )
        for hh, outcome, programs in conn.execute(q):
            out.setdefault(hh, []).append((outcome, list(programs or [])))
    return out


def listed_since(run: ScoreRun) -> dt.datetime:
    """When the run's lists were published (its finish, else its start)."""
    at = run.finished_at or run.started_at
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def coverage(
    conn: Connection,
    run: ScoreRun,
    code: str,
    villages: Sequence[str],
    now: dt.datetime,
    overdue_days: int = OVERDUE_DAYS,
) -> tuple[Coverage, list[Coverage]]:
    """The area's figures and its villages' (only those in ``villages``, sorted), for the run."""
    listed = [row for row in _listed(conn, run.run_id, code) if row[1] in villages]
    outcomes = _outcomes(conn, run.run_id, [hh for hh, _, _ in listed])
    late = now - listed_since(run) > dt.timedelta(days=overdue_days)
    total = Coverage(code)
    per: dict[str, Coverage] = {v: Coverage(v) for v in villages}
    for hh, village, exploration in listed:
        found = outcomes.get(hh, [])
        total.add(exploration, found, late)
        per[village].add(exploration, found, late)
    return total, [per[v] for v in sorted(per) if per[v].listed]


def rows_as_dicts(rows: Sequence[Coverage]) -> list[dict[str, Any]]:
    """The figures as plain data (tests, JSON)."""
    return [{"code": r.code, **dict(zip(Coverage.FIELDS, r.values(), strict=True))} for r in rows]
