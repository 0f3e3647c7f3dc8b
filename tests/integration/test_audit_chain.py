"""The tamper-evident audit log (issue 18, item 2) on SQLite and PostgreSQL.

Found by the review: ``INSERT OR REPLACE`` rewrote a row on SQLite (REPLACE deletes without
firing DELETE triggers) and nothing showed it, because rows were not chained. Now every row is
hash-chained under a lock; ``outreach audit verify`` names the first broken row after an edit,
a deletion, a replacement, an unchained insert or a dropped trigger.
"""

from __future__ import annotations

import importlib
import threading

import pytest
import sqlalchemy as sa

from outreach.cli import main
from serving.store import chain, db, tables
from serving.store.db import AuditEvent

pytestmark = pytest.mark.integration


def _event(i: int) -> AuditEvent:
    return AuditEvent(
        actor=f"t{i:09d}", role="caseworker", action="read", resource="household",
        purpose="visit planning", household_id=f"H{i:024x}", detail={"n": i},
    )  # fmt: skip


@pytest.fixture
def chained(db_url):
    db.upgrade(db_url)
    engine = db.make_engine(db_url)
    with engine.begin() as conn:
        db.append_audit(conn, [_event(i) for i in range(1, 6)])
    yield engine, db_url
    engine.dispose()


def _raw(engine, *statements: str) -> None:
    """Run statements as an intruder with write access would (triggers dropped first)."""
    with engine.begin() as conn:
        for s in statements:
            conn.exec_driver_sql(s)


def _drop_triggers(engine) -> str:
    if engine.dialect.name == "postgresql":
        return "ALTER TABLE audit_log DISABLE TRIGGER USER"
    return "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete"


def _verify(engine) -> chain.Verdict:
    with engine.connect() as conn:
        return chain.verify(conn)


def test_an_intact_chain_verifies_and_the_cli_says_so(chained, tmp_path, monkeypatch, capsys):
    engine, url = chained
    assert _verify(engine).ok and _verify(engine).rows == 5
    monkeypatch.setenv("OUTREACH_DB_URL", url)
    assert main(["audit", "verify", "--workspace", str(tmp_path)]) == 0
    assert "intact: 5 rows" in capsys.readouterr().out


def _tamper(engine, how: str) -> None:
    sqlite = engine.dialect.name == "sqlite"
    drop = _drop_triggers(engine).split("; ")
    if how == "edited":
        _raw(engine, *drop, "UPDATE audit_log SET actor = 'someone' WHERE id = 3")
    elif how == "deleted":
        _raw(engine, *drop, "DELETE FROM audit_log WHERE id = 3")
    elif how == "replaced":
        with engine.connect() as conn:
            row = conn.execute(sa.select(tables.audit_log).where(tables.audit_log.c.id == 3))
            r = row.mappings().one()
        cols = "id, at, actor, role, action, resource, purpose, prev_hash, row_hash"
        vals = (f"3, '{r['at'].isoformat(sep=' ')}', 'someone', 'auditor', 'read', 'list', "
                f"'x', '{r['prev_hash']}', '{r['row_hash']}'")  # fmt: skip
        if sqlite:
            _raw(engine, "DROP TRIGGER audit_log_no_rewind",
                 f"INSERT OR REPLACE INTO audit_log ({cols}) VALUES ({vals})")  # fmt: skip
        else:
            _raw(engine, *drop, "DELETE FROM audit_log WHERE id = 3",
                 f"INSERT INTO audit_log ({cols}) VALUES ({vals})")  # fmt: skip
    elif how == "tail_deleted":
        _raw(engine, *drop, "DELETE FROM audit_log WHERE id = 5")


@pytest.mark.parametrize(
    ("how", "first_broken"),
    [("edited", 3), ("deleted", 4), ("replaced", 3), ("tail_deleted", 5)],
)
def test_verify_names_the_first_broken_row(chained, tmp_path, monkeypatch, capsys, how,
                                           first_broken) -> None:  # fmt: skip
    engine, url = chained
    _tamper(engine, how)
    verdict = _verify(engine)
    assert not verdict.ok
    monkeypatch.setenv("OUTREACH_DB_URL", url)
    assert main(["audit", "verify", "--workspace", str(tmp_path)]) == 1
    line = capsys.readouterr().err
    if "trigger missing" not in line:
        assert verdict.broken_id == first_broken, verdict
        assert f"row {first_broken}" in line
    else:  # the triggers were dropped to tamper: that alone is reported first
        assert "append-only trigger missing" in line


@pytest.mark.parametrize("how", ["edited", "deleted", "replaced"])
def test_with_triggers_restored_the_chain_still_names_the_row(chained, how) -> None:
    """An intruder who puts the triggers back is still found by the chain."""
    engine, _url = chained
    _tamper(engine, how)
    if engine.dialect.name == "postgresql":
        _raw(engine, "ALTER TABLE audit_log ENABLE TRIGGER USER")
    else:
        m = importlib.import_module("serving.store.migrations.versions.0002_audit_chain")
        with engine.connect() as conn:
            present = chain.triggers_present(conn)
        todo = [s for s in m.SQLITE_APPEND_ONLY if s.split()[2] not in present]
        if "audit_log_no_rewind" not in present:
            todo.append(m.SQLITE_NO_REWIND)
        _raw(engine, *todo)
    with engine.connect() as conn:
        assert chain.triggers_present(conn) >= (
            chain.PG_TRIGGERS if engine.dialect.name == "postgresql" else chain.SQLITE_TRIGGERS
        )
    verdict = _verify(engine)
    assert not verdict.ok and verdict.broken_id == {"edited": 3, "deleted": 4, "replaced": 3}[how]


def test_replace_and_upsert_are_refused_with_the_triggers_in_place(chained) -> None:
    engine, _url = chained
    cols = "id, at, actor, role, action, resource, purpose"
    vals = "2, '2026-01-01 00:00:00', 'someone', 'auditor', 'read', 'list', 'x'"
    statements = [f"INSERT INTO audit_log ({cols}) VALUES ({vals}) "
                  "ON CONFLICT (id) DO UPDATE SET actor = 'someone'"]  # fmt: skip
    if engine.dialect.name == "sqlite":
        statements.append(f"INSERT OR REPLACE INTO audit_log ({cols}) VALUES ({vals})")
        statements.append(f"REPLACE INTO audit_log ({cols}) VALUES ({vals})")
    for statement in statements:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            _raw(engine, statement)
    assert _verify(engine).ok


def test_a_dropped_trigger_is_reported(chained) -> None:
    engine, _url = chained
    if engine.dialect.name == "postgresql":
        _raw(engine, "DROP TRIGGER audit_log_no_rewind ON audit_log")
    else:
        _raw(engine, "DROP TRIGGER audit_log_no_rewind")
    verdict = _verify(engine)
    assert not verdict.ok and "audit_log_no_rewind" in verdict.problem


def test_a_row_inserted_around_the_chain_is_reported(chained) -> None:
    engine, _url = chained
    if engine.dialect.name == "postgresql":  # the sequence's id is at or below the newest
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
            db.write_rows(conn, tables.audit_log, [_event(9).as_row()])
        return
    with engine.begin() as conn:
        db.write_rows(conn, tables.audit_log, [_event(9).as_row()])
    verdict = _verify(engine)
    assert not verdict.ok and verdict.broken_id == 6 and "not chained" in verdict.problem


def test_several_writers_append_one_chain(chained) -> None:
    """Four engines (as four service processes would) append at once: one intact chain."""
    engine, url = chained
    engines = [db.make_engine(url) for _ in range(4)]
    errors: list[BaseException] = []

    def work(e, k: int) -> None:
        try:
            for j in range(10):
                with e.begin() as conn:
                    db.append_audit(conn, [_event(100 * k + j), _event(100 * k + j + 50)])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(e, k)) for k, e in enumerate(engines)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in engines:
        e.dispose()
    assert not errors
    verdict = _verify(engine)
    assert verdict.ok and verdict.rows == 5 + 4 * 10 * 2
