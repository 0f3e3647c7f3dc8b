"""A person's access request (PIPL Arts. 24 and 45): what the system holds about one person and
their household, written for the supervisor or auditor who answers the request.

The ID number the person presents is read by the CLI from a prompt (never from argv, so it is
in no shell history or process list), normalized (a 15-digit legacy number is converted) and
hashed in this process with the workspace's pseudonymizer: the same keyed hash ingest gave the
person's records. It is never stored, logged or written; the report shows it masked.

The report (JSON, owner-only, under ``data/reports/subject/``) holds:

- **person**: every record linked to the person, as the warehouse holds it (agency, record
  id, dates, name, birth date, sex, village, ID status, how it was linked), and the linked
  person's summary;
- **households**: each household the person was a member of (relation, hukou type, village,
  dates; the other members only as a count: their data is theirs), and for each, from the
  service database, every score (with reasons), every eligibility row (with its trace), every
  listing, every visit outcome, every correction, and every audit row naming the household
  (who read or wrote what, when, for what purpose);
- **request**: when, by which token (its holder and role), and the pseudonymizer's public
  fingerprint.

Writing the report appends ``read`` audit rows (resource ``subject_report``), one per household
(or one with no household when nothing is held), under the requesting token.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import sqlalchemy as sa

from core.errors import ConfigError
from core.idnumber import IdStatus, mask_id, normalize
from core.personal_files import write_owner_only
from core.settings import Settings
from serving.runtime import auth
from serving.store import db, tables

PURPOSE = "a person's access request (PIPL Arts. 24 and 45)"
REQUESTER_ROLES = frozenset({"supervisor", "auditor"})


@dataclasses.dataclass(frozen=True)
class SubjectReport:
    """The file written and what it covers."""

    path: Path
    households: list[str]
    records: int
    audit_rows: int


def person_key(settings: Settings, id_number: str) -> tuple[str, str]:
    """``(person key, masked ID)`` of a presented ID number, hashed with the workspace's key.

    Raises:
        ConfigError: not a valid ID number (one line, without the value); or the workspace's
            HMAC key is not the one the warehouse was built with (the keys would match nobody).
    """
    from features.pseudonym import pseudonymizer_for

    found = normalize(id_number.strip())
    if found.value is None or found.raw_status not in (IdStatus.VALID, IdStatus.LEGACY_CONVERTED):
        raise ConfigError("not a valid ID number (18 characters, or a 15-digit legacy number)")
    keys = pseudonymizer_for(settings)
    check_key(settings, keys.fingerprint)
    return keys.person_key(found.value), mask_id(found.value)


def check_key(settings: Settings, fingerprint: str) -> None:
    """Refuse, in one line, a key that is not the warehouse's (see docs/storage.md "Keys")."""
    with _warehouse(settings) as con:
        row = con.execute("SELECT value FROM meta WHERE key = 'hmac_fingerprint'").fetchall()
    if row and row[0][0] != fingerprint:
        raise ConfigError(
            "the HMAC key is not the one the warehouse was built with: restore the backed-up "
            "key (docs/storage.md, Keys) before answering an access request"
        )


@contextlib.contextmanager
def _warehouse(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    path = settings.warehouse_path
    if not path.is_file():
        raise ConfigError("no warehouse in this workspace: run outreach ingest and link first")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        raise ConfigError("the warehouse is busy (ingest or link is running): try later") from None
    try:
        yield con
    finally:
        con.close()


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def warehouse_facts(settings: Settings, key: str) -> dict[str, Any]:
    """The person's records, linked persons and household memberships (see the module doc)."""
    with _warehouse(settings) as con:
        persons = [r["person_id"] for r in _rows(con, """
            SELECT DISTINCT l.person_id FROM person_records r
            JOIN links l ON l.agency = r.agency AND l.record_id = r.record_id
            WHERE r.person_key = ? ORDER BY 1""", [key])]  # fmt: skip
        if not persons:
            return {"persons": [], "records": [], "memberships": [], "household_sizes": {}}
        marks = ", ".join("?" for _ in persons)
        records = _rows(con, f"""
            SELECT r.agency, r.record_id, r.event_date, r.recorded_date, r.name, r.birth_date,
                   r.sex, r.village_code, r.id_status, l.method AS link_method,
                   l.match_probability
            FROM links l JOIN person_records r ON r.agency = l.agency AND r.record_id = l.record_id
            WHERE l.person_id IN ({marks}) ORDER BY r.agency, r.event_date, r.record_id""",
            persons)  # fmt: skip
        people = _rows(con, f"SELECT * FROM persons WHERE person_id IN ({marks})", persons)
        members = _rows(con, f"""
            SELECT household_id, event, relation, hukou_type, village_code, event_date,
                   recorded_date, match_probability
            FROM memberships WHERE person_id IN ({marks})
            ORDER BY household_id, event_date""", persons)  # fmt: skip
        homes = sorted({m["household_id"] for m in members if m["household_id"]})
        sizes = {}
        if homes:
            hm = ", ".join("?" for _ in homes)
            sizes = {r["household_id"]: r["n"] for r in _rows(con, f"""
                SELECT household_id, count(DISTINCT person_id) AS n FROM memberships
                WHERE household_id IN ({hm}) GROUP BY 1""", homes)}  # fmt: skip
    return {"persons": people, "records": records, "memberships": members,
            "household_sizes": sizes}  # fmt: skip


def service_facts(conn: sa.Connection, household_id: str) -> dict[str, Any]:
    """What the service database holds about one household, every run and every row."""

    def rows(table: sa.Table, order: sa.ColumnElement, *where: Any) -> list[dict[str, Any]]:
        q = sa.select(table).where(table.c.household_id == household_id, *where).order_by(order)
        return [dict(r) for r in conn.execute(q).mappings()]

    t = tables
    audit = rows(t.audit_log, t.audit_log.c.id)
    named = auth.holders(conn, {r["actor"] for r in audit})
    for row in audit:
        row.pop("prev_hash", None)
        row.pop("row_hash", None)
        row["holder"] = named.get(row["actor"])
    return {
        "scores": rows(t.scores, t.scores.c.as_of),
        "eligibility": rows(t.eligibility, t.eligibility.c.run_id),
        "listings": rows(t.list_entries, t.list_entries.c.run_id),
        "visit_outcomes": rows(t.visit_outcomes, t.visit_outcomes.c.id),
        "corrections": rows(t.corrections, t.corrections.c.id),
        "audit_log": audit,
    }


def requester(conn: sa.Connection, token_id: str) -> auth.Principal:
    """The supervisor or auditor token the report is written for.

    Raises:
        ConfigError: no such active token, or another role.
    """
    principal = auth.verify_token_id(conn, token_id)
    if principal is None:
        raise ConfigError(f"no active token with id {token_id!r} (see outreach token list)")
    if principal.role not in REQUESTER_ROLES:
        raise ConfigError("an access request is answered for a supervisor or an auditor token")
    return principal


def write_report(settings: Settings, id_number: str, requested_by: str) -> SubjectReport:
    """Gather, write (owner-only) and audit the report of the person behind ``id_number``.

    Raises:
        ConfigError: see :func:`person_key` and :func:`requester`.
    """
    engine = db.make_engine(settings.service_db_url)
    try:
        db.upgrade(engine)
        with engine.connect() as conn:
            principal = requester(conn, requested_by)
        key, masked = person_key(settings, id_number)
        facts = warehouse_facts(settings, key)
        homes = sorted(facts["household_sizes"]) or sorted(
            {m["household_id"] for m in facts["memberships"] if m["household_id"]}
        )
        with engine.connect() as conn:
            held = {h: service_facts(conn, h) for h in homes}
        at = dt.datetime.now(dt.UTC)
        report = {
            "request": {
                "at": at,
                "requested_by": principal.token_id,
                "holder": principal.holder,
                "role": principal.role,
                "purpose": PURPOSE,
                "id_number": masked,
            },  # fmt: skip
            "found": bool(facts["records"]),
            "person": {"linked_persons": facts["persons"], "records": facts["records"]},
            "households": [
                {
                    "household_ref": h,
                    "members": facts["household_sizes"].get(h),
                    "memberships": [m for m in facts["memberships"] if m["household_id"] == h],
                    **held[h],
                }  # fmt: skip
                for h in homes
            ],
        }
        path = _write(settings, report, at)
        events = [
            db.AuditEvent(actor=principal.token_id, role=principal.role, action="read",
                          resource="subject_report", purpose=PURPOSE, household_id=h,
                          detail={"file": path.name, "records": len(facts["records"])}, at=at)
            for h in (homes or [None])
        ]  # fmt: skip
        with engine.begin() as conn:
            db.append_audit(conn, events)
    finally:
        engine.dispose()
    return SubjectReport(path, homes, len(facts["records"]), len(events))


def _write(settings: Settings, report: dict[str, Any], at: dt.datetime) -> Path:
    text = json.dumps(report, ensure_ascii=False, indent=1, default=_plain) + "\n"
    return write_owner_only(
        subject_dir(settings), "subject-report", ".json", text.encode("utf-8"), at
    )


def subject_dir(settings: Settings) -> Path:
    """Where access-request reports are written (0700; purged after
    ``retention.personal_files_days``)."""
    return settings.reports_dir / "subject"


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)
