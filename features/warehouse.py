"""The warehouse: one DuckDB file holding validated deliveries, quarantine, linkage and memberships.

Defined once here and read by ingestion, linkage, the feature build and the docs
(``docs/ingestion.md``). Every table is created by :func:`create_schema`; stages never create
tables of their own elsewhere.

Record keys (``record_id`` per agency) are unique by construction: ingestion quarantines a
repeated key, so the large tables carry no index (DuckDB's indexes slow bulk loads).

Tables written by ``outreach ingest``:

- ``deliveries``: one row per delivery file seen, with its checksum, status and counts.
- ``rec_<agency>``: the accepted rows of each agency, with every contract column **except the
  personal identifiers** (``id_number``, ``name``, ``birth_date``), plus ``row_no`` (the row's
  position in its file).
- ``person_records``: the personal identifiers of every accepted row, the normalized ID status,
  the pseudonymous ``person_key`` (HMAC of the normalized ID, valid IDs only) and the raw ID
  only when it could not be normalized (kept for probabilistic linkage, never used as a key).
- ``meta``: the warehouse's schema version and the fingerprint of the HMAC secret.
- ``quarantine``: rejected rows with a reason code and the raw row (as JSON) as evidence.

Tables written by ``outreach link``:

- ``links``: one row per accepted record: the person it belongs to, by which method, with what
  probability, and from which date the link is known (``evidence_date``).
- ``persons``: one row per resolved person.
- ``id_candidates``: for each raw ID that could not be normalized (``person_records.id_invalid``),
  the person keys of the valid IDs one mistyped digit away (none: one row with a null key). A
  pure function of the raw ID and the warehouse's secret, so it is computed once per raw ID and
  kept: the link of a month only computes the IDs new that month (and drops those no longer in
  ``person_records``).
- ``link_term_frequencies``: the term frequency of each value of the columns the match model
  adjusts for frequency (normalized names, birth dates), as the last run computed them
  (``column_name``, ``value`` as text, ``tf``); with ``meta.link_model``, the Splink settings
  the run scored with (its prior included), they let the auditor pages recompute any pair's
  match weight exactly (``features.linkage.pair``). Rewritten by every run.
- ``memberships``: one row per civil-registry record: which household a person joined or left,
  when, and how sure the link is. The household as of a date is the person's latest row with
  ``event_date`` and ``evidence_date`` on or before it (see ``features.linkage.households``).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from core.contracts import CONTRACTS, Column

SCHEMA_VERSION = "1"
"""Version of the warehouse layout below (stored in ``meta``)."""

PERSON_COLUMNS = ("id_number", "name", "birth_date")
"""Contract columns moved out of ``rec_<agency>`` into ``person_records``."""

ENTITY_KEYS: dict[str, str] = {
    "civil_registry": "registry_household_no",
    "civil_assistance": "case_no",
    "medical_claims": "",
    "disability_registry": "certificate_no",
    "education": "student_no",
    "hr_unemployment": "registration_no",
    "hr_contributions": "employer_code",
    "vehicle_registry": "plate_no",
    "property_registry": "certificate_no",
    "business_registry": "credit_code",
    "utility_arrears": "account_no",
    "rural_monitoring": "list_type",
    "visits": "",
}
"""The column of each agency that names a thing tied to a person (a case, a certificate, an
employer...). ``person_records.entity_key`` is ``<agency>:<value>``; linkage uses it as evidence."""

_SQL_TYPES = {
    "string": "VARCHAR",
    "date": "DATE",
    "int": "INTEGER",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
}

LINK_METHODS = ("id", "probabilistic", "singleton")
"""``id``: a valid (or converted legacy) ID number; ``probabilistic``: matched by Splink above
the threshold; ``singleton``: matched nobody, its own person (flagged)."""


def record_table(agency: str) -> str:
    """The table holding an agency's accepted rows."""
    return f"rec_{agency}"


def record_columns(agency: str) -> list[Column]:
    """Contract columns kept in ``rec_<agency>`` (personal identifiers removed)."""
    return [c for c in CONTRACTS[agency].all_columns if c.name not in PERSON_COLUMNS]


def _ddl() -> list[str]:
    out = [
        """CREATE TABLE IF NOT EXISTS deliveries (
            delivery_id VARCHAR, agency VARCHAR, file_name VARCHAR, sha256 VARCHAR,
            extract_date DATE, rows_received BIGINT, rows_accepted BIGINT,
            rows_quarantined BIGINT, status VARCHAR, reason VARCHAR,
            ingested_at TIMESTAMPTZ, PRIMARY KEY (agency, file_name))""",
        """CREATE TABLE IF NOT EXISTS quarantine (
            agency VARCHAR, delivery_id VARCHAR, file_name VARCHAR, row_no INTEGER,
            record_id VARCHAR, reason VARCHAR, detail VARCHAR, raw_json VARCHAR,
            quarantined_at TIMESTAMPTZ)""",
        """CREATE TABLE IF NOT EXISTS person_records (
            agency VARCHAR, record_id VARCHAR, delivery_id VARCHAR, event_date DATE,
            recorded_date DATE, name VARCHAR, birth_date DATE, sex VARCHAR,
            village_code VARCHAR, entity_key VARCHAR, id_status VARCHAR, person_key VARCHAR,
            id_invalid VARCHAR, row_hash VARCHAR)""",
        """CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)""",
        """CREATE TABLE IF NOT EXISTS links (
            agency VARCHAR, record_id VARCHAR, person_id VARCHAR, method VARCHAR,
            match_probability DOUBLE, evidence_date DATE)""",
        """CREATE TABLE IF NOT EXISTS id_candidates (id_invalid VARCHAR, candidate_key VARCHAR)""",
        """CREATE TABLE IF NOT EXISTS link_term_frequencies (
            column_name VARCHAR, value VARCHAR, tf DOUBLE)""",
        """CREATE TABLE IF NOT EXISTS persons (
            person_id VARCHAR PRIMARY KEY, birth_date DATE, sex VARCHAR, method VARCHAR,
            n_records BIGINT, first_recorded_date DATE)""",
        """CREATE TABLE IF NOT EXISTS memberships (
            person_id VARCHAR, household_id VARCHAR, record_id VARCHAR, event VARCHAR,
            relation VARCHAR, hukou_type VARCHAR, village_code VARCHAR, event_date DATE,
            recorded_date DATE, evidence_date DATE, match_probability DOUBLE)""",
    ]
    for agency in CONTRACTS:
        cols = ", ".join(f"{c.name} {_SQL_TYPES[c.dtype]}" for c in record_columns(agency))
        out.append(f"CREATE TABLE IF NOT EXISTS {record_table(agency)} ({cols}, row_no INTEGER)")
        for c in CONTRACTS[agency].optional:  # a warehouse made before the column existed
            out.append(
                f"ALTER TABLE {record_table(agency)} ADD COLUMN IF NOT EXISTS "
                f"{c.name} {_SQL_TYPES[c.dtype]}"
            )
    return out


def fetch_one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> tuple | None:
    """The first row of a query, or None; the result is always consumed (DuckDB 2 refuses new
    work on a connection holding an unfinished result)."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every warehouse table that does not exist yet (idempotent)."""
    for stmt in _ddl():
        con.execute(stmt)


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file, creating it and its tables when writing."""
    if read_only:
        return duckdb.connect(str(path), read_only=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    create_schema(con)
    return con
