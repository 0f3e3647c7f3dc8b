"""Retention in the warehouse (issue 18): ``outreach purge`` removes agency records with names
and birth dates, their links, superseded memberships, persons left with no record, old
quarantine rows and old delivery files -- and leaves every household as of the cut as it was."""

from __future__ import annotations

import datetime as dt
import stat

import sqlalchemy as sa

from core.settings import load_settings
from features import warehouse
from features.linkage.comparisons import normalize_name
from features.linkage.households import membership_sql
from serving.privacy.purge import purge
from serving.store import db, tables

NOW = dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC)  # cut: 2023-12-07 (36 months)
OLD, OLDER, NEW = dt.date(2021, 3, 1), dt.date(2020, 5, 1), dt.date(2025, 6, 1)


def _record(con, agency: str, rid: str, day: dt.date, person: str, name: str) -> None:
    con.execute(f"INSERT INTO rec_{agency} (record_id, event_date, recorded_date) VALUES (?, ?, ?)",
                [rid, day, day])  # fmt: skip
    con.execute("INSERT INTO person_records (agency, record_id, event_date, recorded_date, name, "
                "birth_date) VALUES (?, ?, ?, ?, ?, DATE '1970-01-01')",
                [agency, rid, day, day, name])  # fmt: skip
    con.execute("INSERT INTO links VALUES (?, ?, ?, 'id', 1.0, ?)", [agency, rid, person, day])


def _member(con, rid: str, day: dt.date, person: str, household: str) -> None:
    _record(con, "civil_registry", rid, day, person, f"Registry{rid}")
    con.execute("INSERT INTO memberships VALUES (?, ?, ?, 'birth', 'head', 'rural', 'v', ?, ?, ?, "
                "1)", [person, household, rid, day, day, day])  # fmt: skip


def _warehouse(settings) -> None:
    con = warehouse.connect(settings.warehouse_path)
    for p in ("P1", "P2", "P3"):
        con.execute("INSERT INTO persons (person_id) VALUES (?)", [p])
    _member(con, "c1", OLDER, "P1", "H1")  # superseded before the cut: removed
    _member(con, "c2", OLD, "P1", "H2")  # P1's household as of the cut: kept
    _member(con, "c3", NEW, "P2", "H2")
    _record(con, "medical_claims", "m1", OLD, "P3", "Zhaoqian Oldclaim")  # P3 has nothing else
    _record(con, "medical_claims", "m2", NEW, "P2", "Sunli Newclaim")
    con.execute("INSERT INTO quarantine (record_id, raw_json, quarantined_at) VALUES "
                "('q1', '{\"id_number\": \"33022619800101999X\"}', ?), ('q2', '{}', ?)",
                [NOW - dt.timedelta(days=120), NOW - dt.timedelta(days=10)])  # fmt: skip
    frequencies = [("name_norm", normalize_name(n), 0.5) for n in ("Zhaoqian Oldclaim",
                   "Sunli Newclaim")] + [("birth_date", "1970-01-01", 1.0)]  # fmt: skip
    con.executemany("INSERT INTO link_term_frequencies VALUES (?, ?, ?)", frequencies)
    con.close()
    for name in ("2021-03.parquet", "2025-06.parquet"):
        folder = settings.raw_dir / "agencies" / "medical_claims"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"x")


def _households(settings, day: dt.date) -> set[tuple]:
    con = warehouse.connect(settings.warehouse_path, read_only=True)
    rows = con.execute(f"SELECT person_id, household_id FROM ({membership_sql(day)})").fetchall()
    con.close()
    return set(rows)


def test_a_purge_removes_warehouse_records_past_retention(tmp_path) -> None:
    settings = load_settings(tmp_path)
    _warehouse(settings)
    before = {d: _households(settings, d) for d in (dt.date(2023, 12, 31), NOW.date())}
    dry = purge(settings, now=NOW, dry_run=True)
    assert dry.removed["warehouse.rec_medical_claims"] == 1
    con = warehouse.connect(settings.warehouse_path, read_only=True)
    assert warehouse.fetch_one(con, "SELECT count(*) FROM person_records")[0] == 5  # unchanged
    con.close()
    report = purge(settings, now=NOW)
    r = report.removed
    assert r["warehouse.memberships"] == 1 and r["warehouse.rec_civil_registry"] == 1
    assert r["warehouse.rec_medical_claims"] == 1 and r["warehouse.person_records"] == 2
    assert r["warehouse.links"] == 2 and r["warehouse.persons"] == 1
    assert r["warehouse.quarantine"] == 1 and r["raw_delivery_files"] == 1
    assert r["warehouse.link_term_frequencies"] == 1  # the purged name's frequency goes too
    con = warehouse.connect(settings.warehouse_path, read_only=True)
    names = {n for (n,) in con.execute("SELECT name FROM person_records").fetchall()}
    assert names == {"Registryc2", "Registryc3", "Sunli Newclaim"}
    assert con.execute("SELECT record_id FROM quarantine").fetchall() == [("q2",)]
    kept = con.execute("SELECT column_name, value FROM link_term_frequencies ORDER BY 1").fetchall()
    assert kept == [("birth_date", "1970-01-01"), ("name_norm", normalize_name("Sunli Newclaim"))]
    con.close()
    assert {d: _households(settings, d) for d in before} == before  # households as of the cut on
    data = settings.warehouse_path.read_bytes()  # the file was rewritten, not only marked free
    assert b"Oldclaim" not in data and b"33022619800101999X" not in data
    assert stat.S_IMODE(settings.warehouse_path.stat().st_mode) == 0o600
    folder = settings.raw_dir / "agencies" / "medical_claims"
    assert sorted(p.name for p in folder.iterdir()) == ["2025-06.parquet"]
    engine = db.make_engine(settings.service_db_url)
    with engine.connect() as conn:
        detail = conn.execute(sa.select(tables.audit_log.c.detail).where(
            tables.audit_log.c.action == "purge")).scalar_one()  # fmt: skip
    engine.dispose()
    assert detail["removed"]["warehouse.person_records"] == 2
    assert detail["periods"]["records_months"] == 36
