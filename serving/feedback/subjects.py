"""The subject of a visit: a household's head on the visit date, as the warehouse knows them.

Read-only lookups for :mod:`serving.feedback.export`. The visits contract describes each visit
by its subject, the household head, so an outcome recorded against a household key is turned
into the head's identifying fields as the warehouse held them **on the visit date**:

- the household's members on that date by the shared rule of
  :func:`features.linkage.households.membership_sql` (the same one features and labels use); the
  head is the member whose relation is ``head`` (several heads, a linkage artefact: the one with
  the most certain membership link, then the lowest person id);
- ``village_code``: the head's membership row (the registry's village of the household);
- ``name``: the head's most recent record (latest recorded date, then event date, then agency
  and record id) recorded and linked on or before the visit date; ``birth_date`` and ``sex``:
  the most recent non-empty value among the same records. Records of the ``visits`` agency are
  left out, so an exported visit never describes the next export of the same visit.

Only records known on the visit date are read, so exporting the same outcomes again after later
deliveries were ingested and linked gives the same fields (the export is idempotent).
No clear ID number is read (the warehouse holds none).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import duckdb
import pandas as pd
import pyarrow as pa

from features.linkage.households import date_literal, membership_sql
from features.warehouse import fetch_one

SUBJECT_COLUMNS = ("household_id", "name", "birth_date", "sex", "village_code", "reason")
"""Columns of :func:`heads_on`; ``reason`` is empty when the head was found (see
:data:`serving.feedback.export.UNEXPORTED_REASONS` for the others)."""


def check_linked(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether linkage has run (the warehouse holds memberships)."""
    try:
        row = fetch_one(con, "SELECT count(*) FROM memberships")
    except duckdb.CatalogException:
        return False
    return bool(row and row[0])


def heads_on(con: duckdb.DuckDBPyConnection, day: date, households: Iterable[str]) -> pd.DataFrame:
    """The head of each household on ``day`` with the fields the visits contract asks for.

    Args:
        con: the warehouse (a read-only connection is enough).
        day: the visit date.
        households: household keys (``H`` + 24 hex characters).

    Returns:
        One row per distinct household (:data:`SUBJECT_COLUMNS`): ``reason`` is ``""`` when the
        fields were found, else ``no_household`` (no member on ``day``), ``no_head`` (members,
        none of them the head) or ``no_identity`` (the head has no named record by ``day``).
    """
    wanted = sorted(set(households))
    out = pd.DataFrame({"household_id": wanted})
    for col in SUBJECT_COLUMNS[1:]:
        out[col] = None
    if not wanted:
        return out.loc[:, list(SUBJECT_COLUMNS)]
    members = _members(con, day, wanted)
    heads = (
        members[members["relation"] == "head"]
        .sort_values(["household_id", "match_probability", "person_id"], ascending=[1, 0, 1])
        .drop_duplicates("household_id")
    )
    fields = _person_fields(con, day, heads["person_id"].tolist())
    found = heads.merge(fields, on="person_id", how="left", suffixes=("", "_record"))
    found["village_code"] = found["village_code"].fillna(found["village_code_record"])
    found = found.set_index("household_id")
    out = out.set_index("household_id")
    for col in ("name", "birth_date", "sex", "village_code"):
        out[col] = found[col].reindex(out.index).astype(object)
    has_member = out.index.isin(members["household_id"])
    has_head = out.index.isin(heads["household_id"])
    out["reason"] = ""
    out.loc[~has_member, "reason"] = "no_household"
    out.loc[has_member & ~has_head, "reason"] = "no_head"
    out.loc[has_head & out["name"].isna(), "reason"] = "no_identity"
    out = out.astype(object).where(out.notna(), None)
    return out.reset_index().loc[:, list(SUBJECT_COLUMNS)]


def _members(con: duckdb.DuckDBPyConnection, day: date, wanted: list[str]) -> pd.DataFrame:
    con.register("wanted_households", pa.table({"household_id": pa.array(wanted, pa.string())}))
    try:
        return con.execute(
            f"""
            SELECT m.household_id, m.person_id, m.relation, m.village_code, m.match_probability
            FROM ({membership_sql(day)}) m
            JOIN wanted_households w ON w.household_id = m.household_id
            """
        ).df()
    finally:
        con.unregister("wanted_households")


def _person_fields(con: duckdb.DuckDBPyConnection, day: date, persons: list[str]) -> pd.DataFrame:
    """Name, birth date, sex and village of each person from their records known on ``day``."""
    cols = ["person_id", "name", "birth_date", "sex", "village_code"]
    if not persons:
        return pd.DataFrame(columns=cols)
    d = date_literal(day)
    con.register("wanted_persons", pa.table({"person_id": pa.array(persons, pa.string())}))
    try:
        records = con.execute(
            f"""
            SELECT l.person_id, r.name, r.birth_date, r.sex, r.village_code
            FROM links l
            JOIN wanted_persons w ON w.person_id = l.person_id
            JOIN person_records r ON r.agency = l.agency AND r.record_id = l.record_id
            WHERE r.agency <> 'visits' AND r.recorded_date <= {d} AND l.evidence_date <= {d}
              AND r.name IS NOT NULL
            ORDER BY l.person_id, r.recorded_date DESC, r.event_date DESC, r.agency, r.record_id
            """
        ).df()
    finally:
        con.unregister("wanted_persons")
    if records.empty:
        return pd.DataFrame(columns=cols)
    records["birth_date"] = pd.to_datetime(records["birth_date"]).dt.date
    # groupby.first takes each column's first non-empty value: the most recent one
    return records.groupby("person_id", sort=True).first().reset_index().loc[:, cols]
