"""Service database pieces that need no server: URLs, settings, the SQLite engine, timestamps,
chunked writes, and the group-commit audit writer (on a SQLite file)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

import serving.runtime.audit
from core.errors import ConfigError
from core.settings import load_settings
from serving.runtime.audit import AuditWriteError, AuditWriter
from serving.store import db, tables
from serving.store.db import AuditEvent

UTC8 = dt.timezone(dt.timedelta(hours=8))


def event(i: int) -> AuditEvent:
    return AuditEvent(
        actor="tok1",
        role="caseworker",
        action="read",
        resource="list",
        purpose="visits",
        detail={"i": i},
    )


@pytest.fixture
def engine(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'nested' / 'service.sqlite3'}"
    db.upgrade(url)
    engine = db.make_engine(url)
    yield engine
    engine.dispose()


def count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_urls_pin_psycopg_and_hide_passwords() -> None:
    assert db.to_url("postgres://u:pw@h/d").drivername == "postgresql+psycopg"
    assert db.to_url("postgresql://u@h/d").drivername == "postgresql+psycopg"
    assert db.safe_url("postgresql://u:s3cret@h:5432/d") == "postgresql+psycopg://u:***@h:5432/d"
    assert db.sqlite_path("sqlite:////tmp/x/y.sqlite3") == Path("/tmp/x/y.sqlite3")
    assert db.sqlite_path("sqlite://") is None
    with pytest.raises(ConfigError, match="unsupported") as caught:
        db.to_url("mysql://u:s3cret@h/d")
    assert "s3cret" not in str(caught.value)
    with pytest.raises(ConfigError):
        db.to_url("not a url")


def test_settings_default_to_the_workspace_sqlite_file_and_env_overrides(tmp_path: Path) -> None:
    default = load_settings(tmp_path, environ={})
    assert default.service_db_url == f"sqlite:///{tmp_path / 'data' / 'service.sqlite3'}"
    pg = load_settings(tmp_path, environ={"OUTREACH_DB_URL": "postgresql://u:s3cret@h/d"})
    assert pg.service_db_url == "postgresql://u:s3cret@h/d"
    assert "s3cret" not in repr(pg) and "s3cret" not in str(pg)


def test_sqlite_engine_is_wal_with_foreign_keys_and_busy_timeout(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == db.SQLITE_BUSY_TIMEOUT_MS


def test_sqlite_transactions_roll_back_ddl_and_dml(engine: sa.Engine) -> None:
    with pytest.raises(RuntimeError), engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE scratch (x INTEGER)")
        db.append_audit(conn, [event(1)])
        raise RuntimeError("abort")
    assert "scratch" not in sa.inspect(engine).get_table_names()
    assert count(engine, tables.audit_log) == 0


def test_timestamps_must_carry_a_zone_and_come_back_in_utc(engine: sa.Engine) -> None:
    local = dt.datetime(2026, 1, 31, 16, 30, tzinfo=UTC8)
    with engine.begin() as conn:
        db.append_audit(conn, [dataclasses.replace(event(1), at=local)])
    with engine.connect() as conn:
        at = conn.execute(sa.select(tables.audit_log.c.at)).scalar_one()
    assert at == local and at.utcoffset() == dt.timedelta(0)
    naive = dict(event(2).as_row(), at=dt.datetime(2026, 1, 31))
    with pytest.raises(sa.exc.StatementError, match="naive"), engine.begin() as conn:
        db.write_rows(conn, tables.audit_log, [naive])


def test_audit_events_are_validated_when_built() -> None:
    with pytest.raises(ValueError, match="zone"):
        dataclasses.replace(event(1), at=dt.datetime(2026, 1, 31))
    with pytest.raises(ValueError, match="purpose"):
        dataclasses.replace(event(1), purpose="")
    with pytest.raises(TypeError):
        dataclasses.replace(event(1), detail={"when": dt.date(2026, 1, 31)})


def test_write_rows_goes_in_chunks(engine: sa.Engine) -> None:
    rows = [event(i).as_row() for i in range(10)]
    with engine.begin() as conn:
        assert db.write_rows(conn, tables.audit_log, iter(rows), chunk_rows=4) == 10
        assert db.write_rows(conn, tables.audit_log, []) == 0
    assert count(engine, tables.audit_log) == 10
    with engine.connect() as conn:
        details = conn.execute(sa.select(tables.audit_log.c.detail).order_by("id")).scalars()
        assert [d["i"] for d in details] == list(range(10))  # every chunk, in order
    with pytest.raises(ValueError), engine.begin() as conn:
        db.write_rows(conn, tables.audit_log, rows, chunk_rows=0)


def test_sqlite_fast_path_stores_exactly_what_an_insert_stores(tmp_path: Path) -> None:
    """write_rows on SQLite bypasses SQLAlchemy's execute; the stored values (dates, UTC
    timestamps, booleans, JSON and JSON null, nulls) must be byte for byte those of
    ``conn.execute(table.insert(), rows)``."""
    run = {"run_id": "R1", "as_of": dt.date(2025, 12, 31), "model_name": "m",
           "model_version": "3", "feature_set_version": "1.1", "snapshot_id": "s",
           "priority_version": "1.0", "capacity": {"share": 0.05}, "exploration_share": 0.03,
           "started_at": dt.datetime(2026, 1, 1, 8, tzinfo=UTC8), "status": "complete",
           "chunks_done": 1, "n_households": 2}  # fmt: skip
    scores = [
        {"run_id": "R1", "household_id": f"H{i}", "township_code": "330226101",
         "village_code": "330226101001", "score": 0.25 + i, "raw_score": -1.5, "band": "high",
         "priority": 0.5, "warning_bits": 3 * i, "low_confidence_link": bool(i),
         "as_of": dt.date(2025, 12, 31), "model_version": "3",
         "reasons": {"zh": [{"feature": "x", "shap": 0.1}], "en": []} if i else None,
         "base_value": -2.0 if i else None, "programs": {"dibao": "likely"} if i else None}
        for i in range(2)
    ]  # fmt: skip
    elig = [{"run_id": "R1", "household_id": "H1", "program": "dibao", "status": "likely",
             "receiving": False, "gap": True, "trace": [{"zh": "中文", "en": "e"}]},
            {"run_id": "R1", "household_id": "H0", "program": "dibao", "status": "likely",
             "receiving": True, "gap": False, "trace": None}]  # fmt: skip
    audit = [event(i).as_row() for i in range(3)]
    dumps = []
    for fast in (True, False):
        url = f"sqlite:///{tmp_path / f'{fast}.sqlite3'}"
        db.upgrade(url)
        eng = db.make_engine(url)
        with eng.begin() as conn:
            for table, rows in ((tables.score_runs, [run]), (tables.scores, scores),
                                (tables.eligibility, elig), (tables.audit_log, audit)):  # fmt: skip
                if fast:
                    db.write_rows(conn, table, rows)
                else:
                    conn.execute(table.insert(), rows)
        with eng.connect() as conn:
            raw = conn.connection.dbapi_connection
            names = ("score_runs", "scores", "eligibility", "audit_log")
            dumps.append({t: raw.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall()
                          for t in names})  # fmt: skip
        eng.dispose()
    assert dumps[0] == dumps[1]
    assert dumps[0]["scores"][1] != dumps[0]["scores"][0]  # the rows differ: a real comparison


def test_audit_writer_batches_and_flushes_on_close(engine: sa.Engine) -> None:
    writer = AuditWriter(engine, linger=0.2, max_rows=50).start()
    for i in range(120):
        writer.write(event(i))
    writer.close()
    assert count(engine, tables.audit_log) == 120
    assert writer.rows_written == 120
    assert writer.commits <= 6  # 120 rows at most 50 a batch, lingering: a few commits, not 120
    with pytest.raises(AuditWriteError, match="closed"):
        writer.write(event(0))
    writer.close()  # idempotent


def test_audit_writer_flush_and_submit_make_rows_visible(engine: sa.Engine) -> None:
    with AuditWriter(engine, linger=5.0) as writer:
        writer.write(event(1), event(2))
        writer.flush(timeout=10)
        assert count(engine, tables.audit_log) == 2
        assert writer.submit(event(3)).result(timeout=10) == 1  # does not wait for the linger
        assert count(engine, tables.audit_log) == 3


def test_audit_writer_group_commits_concurrent_submitters(engine: sa.Engine) -> None:
    def client(k: int) -> None:
        for i in range(50):
            writer.submit(event(k * 1000 + i)).result(timeout=30)

    with AuditWriter(engine) as writer:
        threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert count(engine, tables.audit_log) == 400
    assert writer.commits <= 400


def test_a_waiting_submit_lingers_only_wait_linger_for_company(engine: sa.Engine) -> None:
    """With ``wait_linger`` a waited-for row waits that long for others to share its commit;
    without it, it commits at once (and the fire-and-forget ``linger`` never applies to it)."""
    with AuditWriter(engine, linger=5.0, wait_linger=0.3) as writer:
        first = writer.submit(event(1))
        time.sleep(0.05)
        second = writer.submit(event(2))
        assert first.result(timeout=5) == 1 and second.result(timeout=5) == 1
        assert writer.commits == 1  # both rows in one transaction
    with AuditWriter(engine, linger=5.0) as writer:
        started = time.monotonic()
        writer.submit(event(3)).result(timeout=5)
        assert time.monotonic() - started < 2.0  # not the 5 s linger
    assert count(engine, tables.audit_log) == 3


def test_audit_writer_retries_a_failed_commit_and_drops_nothing(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    real, failures = serving.runtime.audit.append_audit, [2]

    def flaky(conn: sa.Connection, events: list[AuditEvent]) -> int:
        if failures[0]:
            failures[0] -= 1
            raise sa.exc.OperationalError("INSERT", {}, Exception("database is locked"))
        return real(conn, events)

    monkeypatch.setattr(serving.runtime.audit, "append_audit", flaky)
    with AuditWriter(engine, linger=0.01) as writer:
        for i in range(30):
            writer.write(event(i))
    assert failures == [0]
    assert count(engine, tables.audit_log) == 30


def test_audit_writer_close_raises_when_the_database_stays_down(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(conn: sa.Connection, events: list[AuditEvent]) -> int:
        raise sa.exc.OperationalError("INSERT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(serving.runtime.audit, "append_audit", down)
    writer = AuditWriter(engine, linger=0.0, retry_limit_on_close=2).start()
    future = writer.submit(event(1))
    with pytest.raises(AuditWriteError, match="1 audit events could not be committed"):
        writer.close(timeout=30)
    assert isinstance(future.exception(timeout=1), AuditWriteError)


def test_audit_writer_fails_fast_on_a_non_transient_error(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(conn: sa.Connection, events: list[AuditEvent]) -> int:
        raise sa.exc.ProgrammingError("INSERT", {}, Exception("no such table"))

    monkeypatch.setattr(serving.runtime.audit, "append_audit", broken)
    writer = AuditWriter(engine).start()
    future = writer.submit(event(1))
    assert isinstance(future.exception(timeout=10), AuditWriteError)
    with pytest.raises(AuditWriteError):
        writer.close(timeout=10)


def test_postgresql_timeouts_are_added_to_the_urls_own_options() -> None:
    """A schema given in the URL (``options=-csearch_path=…``) survives the bounded waits."""
    url = db.to_url("postgresql://u@h/db?options=-csearch_path%3Dtenant_a")
    args = db.postgresql_connect_args(url, 5)
    timeouts = "-c lock_timeout=5000 -c statement_timeout=5000"
    assert args["options"] == f"-csearch_path=tenant_a {timeouts}"
    assert args["connect_timeout"] == 5
    plain = db.postgresql_connect_args(db.to_url("postgresql://u@h/db"), 0.5)
    assert plain["options"] == "-c lock_timeout=500 -c statement_timeout=500"
