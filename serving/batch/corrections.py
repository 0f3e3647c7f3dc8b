"""Caseworkers' data corrections, applied by the next scoring run.

A caseworker who finds on a visit that a registry is wrong about a household ("this vehicle is
not theirs") records a correction (``POST /api/v1/households/{ref}/corrections``): who, when,
what and why. The agency's record is never altered: the warehouse and the snapshot files keep
what the agency delivered. Instead :func:`apply_corrections` overrides the household's feature
values in the scoring run's in-memory frame, so the score, the eligibility verdicts and the
reasons of that run (and of every later run while the correction stands) use the corrected
value, and the run records which corrections it applied (``corrections.applied_run_id``).

Only corrections whose ``item`` names an **applicable** item change features; the rest (a member
who moved out, an income that is wrong) need the agency to fix its record or linkage to be
redone, so they stay ``open`` and are shown to auditors as recorded.

==========  =============================================  =====================================
item        meaning                                        features set
==========  =============================================  =====================================
vehicle     the registered vehicles are not the household's ``vehicles`` = 0, ``vehicle_value`` = 0
property    the registered properties are not theirs        ``properties`` = 0,
                                                            ``residential_area_m2`` = 0
business    the registered businesses are not theirs        ``businesses`` = 0
==========  =============================================  =====================================

Rejected corrections (status ``rejected``) are never applied. The corrections a run applies are
part of its run id, so a new correction makes the next ``outreach score`` of the same date a new
run rather than "already scored".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from serving.store.tables import corrections

APPLICABLE: Mapping[str, Mapping[str, float]] = {
    "vehicle": {"vehicles": 0, "vehicle_value": 0.0},
    "property": {"properties": 0, "residential_area_m2": 0.0},
    "business": {"businesses": 0},
}
"""Applicable correction items and the feature values they set (see the module docstring)."""


@dataclass(frozen=True)
class StandingCorrection:
    """One applicable correction that has not been rejected."""

    id: int
    household_id: str
    item: str


def standing_corrections(conn: Connection) -> list[StandingCorrection]:
    """Every applicable, not rejected correction, oldest first."""
    c = corrections.c
    q = (
        sa.select(c.id, c.household_id, c.item)
        .where(c.status != "rejected", c.item.in_(sorted(APPLICABLE)))
        .order_by(c.id)
    )
    return [StandingCorrection(int(r.id), r.household_id, r.item) for r in conn.execute(q)]


def apply_corrections(
    frame: pd.DataFrame, standing: Iterable[StandingCorrection]
) -> tuple[pd.DataFrame, list[int]]:
    """The snapshot frame with the corrections' feature values set (a copy when any applies).

    Args:
        frame: a snapshot (``household_id`` and the feature columns).
        standing: corrections from :func:`standing_corrections`.

    Returns:
        The frame to score and the ids of the corrections applied (those whose household is
        in the frame), in id order. ``frame`` itself is never modified.
    """
    index = {h: i for i, h in enumerate(frame["household_id"].astype(str))}
    hits = [(c, index[c.household_id]) for c in standing if c.household_id in index]
    if not hits:
        return frame, []
    out = frame.copy()
    for c, i in hits:
        for column, value in APPLICABLE[c.item].items():
            if column in out.columns:
                out.iloc[i, out.columns.get_loc(column)] = value
    return out, sorted(c.id for c, _ in hits)


def digest(applied: Iterable[int]) -> str | None:
    """A short digest of the applied correction ids (part of the run id), or None for none."""
    ids = sorted(applied)
    if not ids:
        return None
    return hashlib.sha256(json.dumps(ids).encode()).hexdigest()[:16]


def mark_applied(conn: Connection, applied: Iterable[int], run_id: str) -> int:
    """Record that a run applied these corrections (status ``applied``, its run id)."""
    ids = sorted(applied)
    total = 0
    for i in range(0, len(ids), 500):
        result = conn.execute(
            corrections.update()
            .where(corrections.c.id.in_(ids[i : i + 500]), corrections.c.status != "rejected")
            .values(status="applied", applied_run_id=run_id)
        )
        total += result.rowcount or 0
    return total
