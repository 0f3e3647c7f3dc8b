"""Observable labels: what the agency records can tell us, never the simulator's truth.

For a household in the snapshot of as-of date ``t`` the label is **1** when, in the window
``(t, t + 6 months]`` (``horizon_months``), a record shows that the household was found in need:

- ``civil_assistance``: an ``enrolment_start`` or ``approval`` of ``dibao``, ``tekun`` or
  ``medical_assistance`` (:data:`LABEL_PROGRAMS`, :data:`LABEL_EVENTS`); temporary assistance
  alone does not count (it follows sudden events, not lasting hardship);
- ``visits``: an outcome ``in_need``;

known by the label cutoff (its knowledge time — the later of ``recorded_date`` and its
delivery's extract date, :func:`features.vectors.sources.known_date` — on or before the cutoff,
the last extract date of the accepted deliveries, :func:`label_cutoff`) and linked to a person
who belongs to the household **at t**
(``links`` then :func:`features.linkage.households.membership_as_of` on ``t``: a member who
moves after ``t`` still counts for the household they were in). Otherwise the label is **0** —
unless the window has not been observed long enough: when ``t + horizon + p99 reporting delay``
(the 99th percentile of ``recorded_date - event_date`` over every label event,
:func:`reporting_delay_p99`) falls after the cutoff, late records may still arrive, so the label
is **NaN** (unlabelled), not 0.

Rows to train on and evaluate (:func:`label_population`): the households **listable for
discovery** at ``t`` (:mod:`policies.population`: not enrolled in dibao or tekun, no recent
in-need visit, no pending or granted application, not monitored) — the population the
discovery lists are drawn from, so the model is trained and validated on the rows it ranks.

Example:
    >>> labels = observable_labels(con, [date(2024, 6, 30)])  # doctest: +SKIP
    >>> rows = snapshot[label_population(snapshot, params)]  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd

from core.months import shift_months
from features.linkage.households import date_literal, membership_as_of
from features.vectors.sources import known_date
from features.warehouse import record_table
from policies.parameters import ParameterSet, load_parameters
from policies.population import DEFINITION as POPULATION
from policies.population import listable_for_discovery

HORIZON_MONTHS = 6
LABEL_PROGRAMS = ("dibao", "tekun", "medical_assistance")
"""Programs whose start marks a household found in need (temporary assistance excluded)."""
LABEL_EVENTS = ("enrolment_start", "approval")
LABEL_VISIT_OUTCOMES = ("in_need",)
EXCLUDE_FLAGS = ("enrolled_dibao", "enrolled_tekun", "visit_in_need_6m")
"""Snapshot flags left out of the model's inputs: constant in the discovery population."""
LABEL_COLUMNS = ("household_id", "as_of", "label", "labelled")

LABEL_DEFINITION = (
    "1 when, within 6 months after the as-of date, a member (by the household's membership on "
    "the as-of date) starts or is approved for dibao, tekun or medical assistance, or a visit "
    "finds the household in need, as recorded by the label cutoff; unlabelled (not 0) when the "
    "window plus the p99 reporting delay runs past the cutoff. Population: " + POPULATION
)


def label_population(
    snapshot: pd.DataFrame, params: ParameterSet | None = None, as_of: date | None = None
) -> pd.Series:
    """Boolean mask of the snapshot rows to label: the discovery population
    (:func:`policies.population.listable_for_discovery`; each row's ``as_of`` column is its
    date unless ``as_of`` is given). A missing flag counts as false.
    """
    return listable_for_discovery(snapshot, params or load_parameters(), as_of)


def _events_sql(cutoff: date) -> str:
    """Every label event recorded by ``cutoff`` with the person its record is linked to."""
    c = date_literal(cutoff)
    programs = ", ".join(f"'{p}'" for p in LABEL_PROGRAMS)
    events = ", ".join(f"'{e}'" for e in LABEL_EVENTS)
    outcomes = ", ".join(f"'{o}'" for o in LABEL_VISIT_OUTCOMES)
    return f"""
        SELECT l.person_id, e.event_date, e.recorded_date
        FROM (
            SELECT 'civil_assistance' AS agency, record_id, event_date,
                   {known_date("a")} AS recorded_date
            FROM {record_table("civil_assistance")} a
            WHERE program IN ({programs}) AND event IN ({events})
            UNION ALL
            SELECT 'visits' AS agency, record_id, event_date, {known_date("v")} AS recorded_date
            FROM {record_table("visits")} v
            WHERE outcome IN ({outcomes})
        ) e
        JOIN links l ON l.agency = e.agency AND l.record_id = e.record_id
        WHERE e.recorded_date <= {c} AND l.evidence_date <= {c}
    """


def label_cutoff(con: duckdb.DuckDBPyConnection) -> date:
    """The last extract date of the accepted deliveries: nothing recorded later is known."""
    row = con.execute(
        "SELECT max(extract_date) FROM deliveries WHERE status = 'accepted'"
    ).fetchall()
    if not row or row[0][0] is None:
        from core.errors import ConfigError

        raise ConfigError("the warehouse holds no accepted delivery: run `outreach ingest` first")
    return row[0][0]


def reporting_delay_p99(con: duckdb.DuckDBPyConnection, cutoff: date | None = None) -> int:
    """The 99th percentile (whole days, rounded up) of ``recorded_date - event_date`` of the
    label events recorded by ``cutoff``; 0 when there is none."""
    cutoff = cutoff or label_cutoff(con)
    rows = con.execute(
        f"SELECT date_diff('day', event_date, recorded_date) FROM ({_events_sql(cutoff)})"
    ).fetchall()
    if not rows:
        return 0
    delays = np.array([r[0] for r in rows], dtype=float)
    return int(math.ceil(float(np.quantile(delays, 0.99))))


def is_labelled(as_of: date, cutoff: date, delay_days: int, horizon_months: int) -> bool:
    """Whether the label window of ``as_of`` plus the reporting delay ends by the cutoff."""
    return shift_months(as_of, horizon_months) + timedelta(days=delay_days) <= cutoff


def observable_labels(
    con: duckdb.DuckDBPyConnection,
    as_of_dates: Iterable[date],
    horizon_months: int = HORIZON_MONTHS,
    cutoff: date | None = None,
) -> pd.DataFrame:
    """Labels of every household with a member on each as-of date.

    Args:
        con: the warehouse (read-only is enough: only temp tables are created).
        as_of_dates: snapshot dates.
        horizon_months: length of the label window after each date.
        cutoff: what counts as known; default :func:`label_cutoff` (tests pass an earlier one).

    Returns:
        Columns ``household_id, as_of`` (``datetime.date``), ``label`` (1.0, 0.0 or NaN when
        unlabelled), ``labelled`` (bool); sorted by date then household. Apply
        :func:`label_population` to the snapshot to choose the rows.
    """
    cutoff = cutoff or label_cutoff(con)
    delay = reporting_delay_p99(con, cutoff)
    events = _events_sql(cutoff)
    frames = []
    for t in sorted(set(as_of_dates)):
        members = membership_as_of(con, t, suffix=f"lab{t:%Y%m%d}")
        try:
            end = shift_months(t, horizon_months)
            df = con.execute(
                f"""
                SELECT m.household_id,
                       max(CASE WHEN e.event_date > {date_literal(t)}
                                 AND e.event_date <= {date_literal(end)} THEN 1 ELSE 0 END)
                           AS positive
                FROM (SELECT DISTINCT person_id, household_id FROM {members}) m
                LEFT JOIN ({events}) e ON e.person_id = m.person_id
                GROUP BY m.household_id
                """
            ).df()
        finally:
            con.execute(f"DROP TABLE IF EXISTS {members}")
        labelled = is_labelled(t, cutoff, delay, horizon_months)
        df["label"] = df["positive"].astype(float) if labelled else np.nan
        df["labelled"] = labelled
        df["as_of"] = t
        frames.append(df[list(LABEL_COLUMNS)])
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in LABEL_COLUMNS})
    out = pd.concat(frames, ignore_index=True)
    out["household_id"] = out["household_id"].astype(str)
    out["label"] = out["label"].astype(float)
    out["labelled"] = out["labelled"].astype(bool)
    return out.sort_values(["as_of", "household_id"], kind="stable").reset_index(drop=True)
