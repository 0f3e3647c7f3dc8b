"""The service database on both backends (SQLite file, PostgreSQL schema; see tests/support/pg.py).

Migrations build exactly the schema's metadata and are idempotent; the audit log refuses UPDATE
and DELETE in the database itself; rows survive an engine restart; bulk writes go in chunks.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from serving.runtime.audit import AuditWriter
from serving.store import db, tables
from serving.store.db import AuditEvent

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 1, 31, 8, 30, tzinfo=dt.UTC)
AS_OF = dt.date(2025, 12, 31)


def run_row(run_id: str, as_of: dt.date = AS_OF, status: str = "complete") -> dict[str, Any]:
    return {
        "run_id": run_id,
        "as_of": as_of,
        "model_name": "hardship",
        "model_version": "3",
        "feature_set_version": "fs1",
        "snapshot_id": f"snap-{as_of}",
        "priority_version": "p1",
        "capacity": {"share": 0.05},
        "exploration_share": 0.03,
        "started_at": NOW,
        "finished_at": NOW if status == "complete" else None,
        "status": status,
        "chunks_done": 1,
        "n_households": 2,
    }


def score_rows(run_id: str, n: int) -> list[dict[str, Any]]:
    return [
        {
            "run_id": run_id,
            "household_id": f"h{i:07d}",
            "as_of": AS_OF,
            "model_version": "3",
            "township_code": f"T{i % 7}",
            "village_code": f"V{i % 50}",
            "score": (i % 1000) / 1000,
            "raw_score": -2.0 + (i % 100) / 25,
            "band": "high" if i % 10 == 0 else "low",
            "priority": (i % 997) / 997,
            "low_confidence_link": i % 13 == 0,
            "reasons": None,
            "base_value": None,
            "programs": None,
        }
        for i in range(n)
    ]


def audit_event(i: int = 0) -> AuditEvent:
    return AuditEvent(
        actor="tok1",
        role="auditor",
        action="read",
        resource="household",
        purpose="audit",
        household_id=f"h{i:07d}",
        detail={"i": i},
        at=NOW,
    )


@pytest.fixture
def engine(db_url: str):
    db.upgrade(db_url)
    engine = db.make_engine(db_url)
    yield engine
    engine.dispose()


def test_upgrade_builds_exactly_the_metadata_and_twice_is_a_noop(db_url: str) -> None:
    assert db.current_revision(db_url) is None
    assert db.upgrade(db_url) == db.head_revision()
    engine = db.make_engine(db_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), tables.metadata
            )
            assert diff == []
            inspector = sa.inspect(conn)
            names = set(inspector.get_table_names()) - {"alembic_version"}
            assert names == set(tables.metadata.tables)
            for name, table in tables.metadata.tables.items():
                assert [c["name"] for c in inspector.get_columns(name)] == list(table.c.keys())
                indexes = {ix["name"] for ix in inspector.get_indexes(name)}
                assert indexes >= {ix.name for ix in table.indexes}
        before = _table_snapshot(engine)
        assert db.upgrade(db_url) == db.head_revision()
        assert _table_snapshot(engine) == before
        assert db.current_revision(db_url) == db.head_revision()
    finally:
        engine.dispose()


def _table_snapshot(engine: sa.Engine) -> dict[str, list[str]]:
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        return {
            t: [c["name"] for c in inspector.get_columns(t)] for t in inspector.get_table_names()
        }


def test_audit_log_refuses_update_and_delete(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        assert db.append_audit(conn, [audit_event(1), audit_event(2)]) == 2
    statements = [
        tables.audit_log.update().values(purpose="changed"),
        tables.audit_log.delete(),
        tables.audit_log.delete().where(tables.audit_log.c.household_id == "h0000001"),
    ]
    if engine.dialect.name == "postgresql":
        statements.append(sa.text("TRUNCATE audit_log"))
    for statement in statements:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(statement)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(tables.audit_log).order_by("id")).mappings().all()
    assert [r["purpose"] for r in rows] == ["audit", "audit"]
    assert rows[0]["at"] == NOW and rows[0]["detail"] == {"i": 1}


def test_rows_survive_an_engine_restart(db_url: str) -> None:
    db.upgrade(db_url)
    first = db.make_engine(db_url)
    with first.begin() as conn:
        conn.execute(tables.score_runs.insert(), [run_row("r1")])
        db.write_rows(conn, tables.scores, score_rows("r1", 2))
        conn.execute(
            tables.visit_outcomes.insert(),
            [
                {
                    "household_id": "h0000001",
                    "visit_date": dt.date(2026, 1, 15),
                    "outcome": "in_need",
                    "programs_started": ["dibao"],
                    "note": None,
                    "recorded_by": "tok1",
                    "recorded_at": NOW,
                    "run_id": "r1",
                    "model_version": "3",
                }
            ],
        )
    with AuditWriter(first) as audit:
        audit.write(audit_event(5))
    first.dispose()

    second = db.make_engine(db_url)
    try:
        with second.connect() as conn:
            run = db.latest_complete_run(conn)
            outcome = conn.execute(sa.select(tables.visit_outcomes)).mappings().one()
            n_audit = conn.execute(sa.select(sa.func.count()).select_from(tables.audit_log))
            assert n_audit.scalar_one() == 1
        assert run is not None and run.run_id == "r1" and run.capacity == {"share": 0.05}
        assert run.finished_at == NOW and run.as_of == AS_OF
        assert outcome["programs_started"] == ["dibao"]
        assert outcome["recorded_at"] == NOW and outcome["recorded_at"].tzinfo is not None
    finally:
        second.dispose()


def test_latest_complete_run_ignores_running_and_later_dates(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        assert db.latest_complete_run(conn) is None
        conn.execute(
            tables.score_runs.insert(),
            [
                run_row("nov", dt.date(2025, 11, 30)),
                run_row("dec", dt.date(2025, 12, 31)),
                run_row("jan", dt.date(2026, 1, 31), status="running"),
            ],
        )
    with engine.connect() as conn:
        assert db.latest_complete_run(conn).run_id == "dec"
        assert db.latest_complete_run(conn, as_of=dt.date(2025, 12, 1)).run_id == "nov"
        assert db.latest_complete_run(conn, as_of=dt.date(2025, 1, 1)) is None
        assert db.get_run(conn, "jan").status == "running"


def test_foreign_keys_cascade_from_a_run(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(tables.score_runs.insert(), [run_row("r1")])
        db.write_rows(conn, tables.scores, score_rows("r1", 3))
        conn.execute(
            tables.eligibility.insert(),
            [
                {
                    "run_id": "r1",
                    "household_id": "h0000000",
                    "program": "dibao",
                    "status": "likely",
                    "receiving": False,
                    "gap": True,
                    "trace": {"zh": ["收入低于标准"], "en": ["income below the line"]},
                }
            ],
        )
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        db.write_rows(conn, tables.scores, score_rows("no-such-run", 1))
    with engine.begin() as conn:
        conn.execute(tables.score_runs.delete().where(tables.score_runs.c.run_id == "r1"))
    with engine.connect() as conn:
        for table in (tables.scores, tables.eligibility):
            assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() == 0


def test_bulk_write_of_100k_scores_in_chunks(engine: sa.Engine) -> None:
    n = 100_000
    with engine.begin() as conn:
        conn.execute(tables.score_runs.insert(), [run_row("big")])
        written = db.write_rows(conn, tables.scores, iter(score_rows("big", n)), chunk_rows=20_000)
    assert written == n
    with engine.connect() as conn:
        count = conn.execute(
            sa.select(sa.func.count()).where(tables.scores.c.run_id == "big")
        ).scalar_one()
        flagged = conn.execute(
            sa.select(sa.func.count()).where(tables.scores.c.low_confidence_link)
        ).scalar_one()
    assert count == n
    assert flagged == len(range(0, n, 13))


def test_write_rows_round_trips_json_booleans_dates_and_timestamps(engine: sa.Engine) -> None:
    trace = {"zh": ["人均收入低于低保标准"], "en": ["income per head below the line"]}
    with engine.begin() as conn:
        conn.execute(tables.score_runs.insert(), [run_row("r1")])
        db.write_rows(conn, tables.scores, score_rows("r1", 2))
        db.write_rows(
            conn,
            tables.eligibility,
            [
                {"run_id": "r1", "household_id": "h0000000", "program": "dibao",
                 "status": "likely", "receiving": False, "gap": True, "trace": trace},
                {"run_id": "r1", "household_id": "h0000001", "program": "dibao",
                 "status": "not_eligible", "receiving": True, "gap": False, "trace": None},
            ],
        )  # fmt: skip
        local = dt.datetime(2026, 1, 31, 16, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
        db.write_rows(conn, tables.audit_log, [dict(audit_event(1).as_row(), at=local)])
    with engine.connect() as conn:
        rows = conn.execute(sa.select(tables.eligibility).order_by("household_id")).mappings()
        first, second = rows.all()
        null_traces = conn.execute(
            sa.select(sa.func.count()).where(tables.eligibility.c.trace.is_(None))
        ).scalar_one()
        at = conn.execute(sa.select(tables.audit_log.c.at)).scalar_one()
        run = db.get_run(conn, "r1")
    assert first["trace"] == trace and first["gap"] is True and first["receiving"] is False
    assert second["trace"] is None and null_traces == 1  # SQL NULL, not JSON 'null'
    assert at == local and at.tzinfo == dt.UTC
    assert run is not None and run.started_at == NOW and run.as_of == AS_OF


def test_write_columns_stores_what_write_rows_stores(engine: sa.Engine) -> None:
    """The column-wise writer (batch scoring) on both backends: the same rows as row-wise."""
    rows = score_rows("cols", 5)
    with engine.begin() as conn:
        conn.execute(tables.score_runs.insert(), [run_row("cols"), run_row("rows")])
        columns = {k: [r[k] for r in rows] for k in rows[0]}
        assert db.write_columns(conn, tables.scores, columns) == 5
        db.write_rows(conn, tables.scores, [dict(r, run_id="rows") for r in rows])
        assert db.write_columns(conn, tables.scores, {k: [] for k in rows[0]}) == 0
    with pytest.raises(ValueError, match="different lengths"), engine.begin() as conn:
        db.write_columns(conn, tables.scores, {"run_id": ["cols"], "household_id": []})
    with engine.connect() as conn:
        got = {}
        for run in ("cols", "rows"):
            q = sa.select(tables.scores).where(tables.scores.c.run_id == run)
            got[run] = [
                dict(r, run_id=None) for r in conn.execute(q.order_by("household_id")).mappings()
            ]
    assert got["cols"] == got["rows"] and len(got["cols"]) == 5
