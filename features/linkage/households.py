"""Households as of a date: who belongs to which household, resolved from ``memberships``.

A person's household on a date is that of their latest ``memberships`` row with ``event_date``,
``recorded_date`` and ``evidence_date`` all on or before the date (ties broken by recorded date,
then record id). ``death`` and ``move_out`` mean the person belongs to no household; every other
event (``baseline``, ``birth``, ``move_in``, ``household_split``) means they belong to that row's
household, with its relation, hukou type and village. Birth date and sex come from ``persons``
(resolved over all of a person's records; they do not change over time).

Example:
    >>> table = membership_as_of(con, date(2024, 6, 30))  # doctest: +SKIP
    >>> con.execute(f"SELECT count(*) FROM {table}").fetchone()  # doctest: +SKIP
"""

from __future__ import annotations

from datetime import date

import duckdb

JOIN_EVENTS = ("baseline", "birth", "move_in", "household_split")
"""Registry events after which a person is a member of the row's household."""
LEAVE_EVENTS = ("death", "move_out")
"""Registry events after which a person belongs to no household."""


def date_literal(day: date) -> str:
    """A standard SQL date literal (safe: built from a ``date``, never from text)."""
    if not isinstance(day, date):
        raise TypeError(f"expected a date, got {type(day).__name__}")
    return f"DATE '{day.isoformat()}'"


def age_sql(birth: str, on: date) -> str:
    """Portable SQL for the age in whole years on ``on`` of a birth-date column (null: null)."""
    mmdd = on.month * 100 + on.day
    return (
        f"(CAST({on.year} - EXTRACT(YEAR FROM {birth}) AS INTEGER) - CASE WHEN "
        f"EXTRACT(MONTH FROM {birth}) * 100 + EXTRACT(DAY FROM {birth}) > {mmdd} "
        f"THEN 1 ELSE 0 END)"
    )


def membership_sql(as_of: date) -> str:
    """The SELECT of every member on ``as_of`` (see the module docstring for the rule)."""
    d = date_literal(as_of)
    joins = ", ".join(f"'{e}'" for e in JOIN_EVENTS)
    return f"""
        SELECT s.person_id, s.household_id, s.relation, s.hukou_type, s.village_code,
               s.match_probability, p.birth_date, p.sex, {age_sql("p.birth_date", as_of)} AS age
        FROM (
            SELECT m.*, ROW_NUMBER() OVER (
                       PARTITION BY m.person_id
                       ORDER BY m.event_date DESC, m.recorded_date DESC, m.record_id DESC) AS rn
            FROM memberships m
            WHERE m.event_date <= {d} AND m.recorded_date <= {d} AND m.evidence_date <= {d}
        ) s
        LEFT JOIN persons p ON p.person_id = s.person_id
        WHERE s.rn = 1 AND s.event IN ({joins})
    """


def membership_as_of(con: duckdb.DuckDBPyConnection, as_of: date, suffix: str = "") -> str:
    """Create the temp table ``members_<suffix>`` of every member on ``as_of``; return its name.

    Columns: ``person_id, household_id, relation, hukou_type, village_code, match_probability``
    (of the membership link), ``birth_date, sex`` (from ``persons``) and ``age`` (whole years on
    ``as_of``; null when the birth date is unknown). ``suffix`` defaults to ``YYYYMMDD``.
    """
    name = f"members_{suffix or as_of.strftime('%Y%m%d')}"
    if not name.replace("_", "").isalnum():
        raise ValueError(f"bad table suffix {suffix!r}")
    con.execute(f"DROP TABLE IF EXISTS {name}")
    con.execute(f"CREATE TEMP TABLE {name} AS {membership_sql(as_of)}")
    return name
